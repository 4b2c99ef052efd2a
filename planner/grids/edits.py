"""Planner edits of a grid division, each re-proved, with undo and redo.

A :class:`GridEditor` holds the working state: the atoms, the grid code of each
atom (the grid an atom belongs to *is* its code, so codes of untouched grids never
change), the locked grids and the edit history. Every edit

1. checks the edit's own preconditions (same community, adjacency, the source grid
   stays in one piece, compounds stay whole, households stay in range) and refuses
   with :class:`~planner.errors.RuleViolation` naming the reason, e.g.
   ``moving atom 137 would leave grid 10000011010800100203 in two pieces``;
2. builds the new grids (only the touched grids are dissolved again);
3. re-proves every rule with :func:`planner.grids.rules.check_grids`; an edit that adds
   a violation is refused and the state is left as it was.

Codes: a move keeps both grids' codes; a merge keeps the lower code; a split keeps
the code for the part with more households and gives the other part the lowest
free sequence number of the community; a re-divide keeps locked grids' codes, and
each new grid inherits the code of the old grid whose households it holds most of.
Codes never move: a code that disappears (the higher code of a merge, a grid of a
re-divide nobody inherits, a split undone) is *retired* (``GridEditor.retired``, saved
in the project file) and never given to another grid.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import csgraph
from shapely.geometry import LineString
from shapely.ops import split as split_geometry

from planner.errors import RuleViolation
from planner.grids import _partition as part
from planner.grids.atoms import adjacency, adjacency_matrix, building_atoms
from planner.grids.codes import code_prefix, free_sequences, provisional_codes, sequence_digits
from planner.grids.dedicated import KIND_DEDICATED, KIND_RESIDENTIAL, grid_kinds
from planner.grids.division import (
    GRID_COLUMNS,
    GridResult,
    _dedicated_reasons,
    _unit_graph,
    divide,
)
from planner.grids.rules import RuleReport, check_grids
from planner.grids.shape import feature_tree, internal_boundaries, on_feature_length
from planner.i18n import CLAUSE_SEP, Message, items, msg
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)


@dataclass
class EditRecord:
    """One applied edit: operation, its arguments, a message and the time (UTC ISO)."""

    op: str
    args: dict[str, Any]
    message: str
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Snapshot:
    labels: pd.Series
    locked: frozenset[str]
    record: EditRecord | None


class GridEditor:
    """The working state of a grid division and the edits a planner makes to it.

    Parameters
    ----------
    street
        The street (projected CRS).
    atoms
        Atoms with ``atom_id`` (index), ``community_id``, ``compound_id``,
        ``households``, ``population``, ``buildings``, ``area_m2``, ``perimeter_m``.
    labels
        Grid code of each atom (Series indexed by ``atom_id``).
    communities
        Community table (``community_id``, ``name``, ``code``, geometry).
    settings
        Bounds and code parts.
    locked
        Codes of locked grids.
    history
        Edits applied so far (oldest first).
    reasons
        Why grids are out of range (code -> reason).
    retired
        Codes of grids that are gone (from the project file): never given again.
    """

    def __init__(
        self,
        street: Street,
        atoms: gpd.GeoDataFrame,
        labels: pd.Series,
        communities: gpd.GeoDataFrame,
        *,
        settings: Settings | None = None,
        locked: set[str] | frozenset[str] = frozenset(),
        history: list[EditRecord] | None = None,
        reasons: dict[str, str] | None = None,
        retired: Iterable[str] = (),
    ) -> None:
        self.street = street
        self.settings = settings or Settings()
        self.atoms = atoms.set_index("atom_id", drop=False).rename_axis(None)
        self.communities = communities
        self.labels = labels.reindex(self.atoms.index).astype(str)
        self.locked: frozenset[str] = frozenset(locked)
        self.history: list[EditRecord] = list(history or [])
        self.reasons: dict[str, str] = dict(reasons or {})
        #: Codes of grids that are gone; never given to another grid.
        self.retired: set[str] = set(retired)
        self.undo_stack: list[_Snapshot] = []
        self.redo_stack: list[_Snapshot] = []
        adj = adjacency(self.atoms.geometry.values)
        self._adj = adjacency_matrix(adj, len(self.atoms))
        self._pos = pd.Series(np.arange(len(self.atoms)), index=self.atoms.index)
        self._building_atom = building_atoms(street, self.atoms.reset_index(drop=True))
        self._geom: dict[str, shapely.Geometry] = {}
        self._grids: gpd.GeoDataFrame = gpd.GeoDataFrame()
        self._rebuild(set(self.labels.unique()))
        self.report = self._prove(self.labels)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_result(
        cls, street: Street, result: GridResult, *, settings: Settings | None = None
    ) -> GridEditor:
        """An editor on the grids :func:`planner.grids.division.divide` made."""
        labels = result.atoms.set_index("atom_id")["code"]
        reasons = dict(zip(result.grids["code"], result.grids["reason"], strict=True))
        return cls(
            street,
            result.atoms,
            labels,
            result.communities,
            settings=settings,
            reasons={k: v for k, v in reasons.items() if v},
        )

    # ------------------------------------------------------------------ views

    @property
    def grids(self) -> gpd.GeoDataFrame:
        """The current grids (columns of :data:`planner.grids.division.GRID_COLUMNS`)."""
        return self._grids.copy()

    def result(self) -> GridResult:
        """The current grids as a :class:`~planner.grids.division.GridResult`.

        What every output of an edited project reads (red map, tables, exports), in
        the same shape :func:`~planner.grids.division.divide` returns: the atoms carry
        the ``code`` and ``grid_id`` of the grid holding them now, ``unresolved`` lists
        the atoms with households of grids out of range, ``report`` is the last proof.
        """
        grids = self.grids
        grids["locked"] = grids["code"].isin(self.locked)  # a lock rebuilds no grid
        atoms = self.atoms.reset_index(drop=True)
        atoms["code"] = self.labels.to_numpy()
        atoms["grid_id"] = atoms["code"].map(grids.set_index("code")["grid_id"]).to_numpy()
        bad = grids.loc[grids["reason"] != "", ["grid_id", "code", "reason"]]
        sel = atoms[atoms["code"].isin(bad["code"]) & (atoms["households"] > 0)]
        unresolved = pd.DataFrame(
            sel[["atom_id", "grid_id", "code", "households"]].merge(
                bad[["code", "reason"]], on="code"
            )
        ).reset_index(drop=True)
        return GridResult(
            grids=grids,
            atoms=atoms,
            building_atom=self._building_atom.copy(),
            communities=self.communities,
            unresolved=unresolved,
            report=self.report,
        )

    def grid_of_atom(self, atom_id: int) -> str:
        return str(self.labels.loc[atom_id])

    def atom_at(self, x: float, y: float) -> int | None:
        """The atom holding the point (x, y) in the street CRS (metres), or None.

        For a map click in longitude/latitude, project first, e.g. with
        ``pyproj.Transformer.from_crs(4326, editor.street.crs, always_xy=True)``.
        """
        hit = shapely.STRtree(np.asarray(self.atoms.geometry.values, dtype=object)).query(
            shapely.Point(x, y), predicate="intersects"
        )
        return int(self.atoms["atom_id"].iloc[int(hit.min())]) if len(hit) else None

    def grid_at(self, x: float, y: float) -> str | None:
        """The code of the grid holding the point (x, y) in the street CRS, or None."""
        atom = self.atom_at(x, y)
        return None if atom is None else self.grid_of_atom(atom)

    def atoms_of(self, code: str) -> NDArray[np.int64]:
        return self.labels.index[self.labels == code].to_numpy()

    # ------------------------------------------------------------------ edits

    def move_atoms(self, atom_ids: list[int] | int, to: str) -> RuleReport:
        """Move atoms (all from one grid) to the adjacent grid ``to``."""
        ids = [atom_ids] if isinstance(atom_ids, int | np.integer) else list(atom_ids)
        self._need_grid(to)
        for a in ids:
            if a not in self.labels.index:
                raise RuleViolation(msg("edit_no_atom", atom=a))
        sources = set(self.labels.loc[ids])
        if len(sources) != 1:
            raise RuleViolation(
                msg("edit_atoms_in_several_grids", atoms=ids, grids=sorted(sources))
            )
        src = sources.pop()
        what = (
            msg("edit_what_atom", atom=ids[0])
            if len(ids) == 1
            else msg("edit_what_atoms", atoms=ids)
        )
        if src == to:
            raise RuleViolation(msg("edit_already_in_grid", what=what, grid=to))
        self._need_unlocked(src, to)
        comm = set(self.atoms.loc[ids, "community_id"])
        to_comm = self._community(to)
        if comm != {to_comm}:
            raise RuleViolation(
                msg(
                    "edit_other_community",
                    what=what,
                    grid=to,
                    community=sorted(comm)[0],
                    to_community=to_comm,
                )
            )
        self._need_compounds_whole(ids, what)
        self._need_not_dedicated(ids, to, what)  # --- grids: refuse residential land ---
        if not self._touches(ids, to):
            key = "edit_not_adjacent_one" if len(ids) == 1 else "edit_not_adjacent_many"
            raise RuleViolation(msg(key, what=what, grid=to))
        new = self.labels.copy()
        new.loc[ids] = to
        if (new == src).sum() == 0:
            raise RuleViolation(msg("edit_leaves_empty", what=what, grid=src))
        if not self._connected(new, src):
            raise RuleViolation(msg("edit_leaves_two_pieces", what=what, grid=src))
        self._need_range(new, [src, to], msg("edit_action_move", what=what))
        return self._apply(
            new,
            "move_atoms",
            {"atoms": [int(a) for a in ids], "from": src, "to": to},
            msg("edit_moved", what=what, source=src, grid=to),
            {src, to},
        )

    def move_buildings(self, building_ids: list[str], to: str) -> RuleReport:
        """Move a group of buildings (with the atoms holding them) to grid ``to``.

        A building group is the set of all buildings of some atoms (atoms are cut
        between buildings where a compound is larger than the maximum), so each
        atom holding a listed building must hold only listed buildings.
        """
        bid = self.street.buildings["building_id"].astype(str)
        want = set(map(str, building_ids))
        unknown = want - set(bid)
        if unknown:
            raise RuleViolation(msg("edit_no_building", building=sorted(unknown)[0]))
        ba = self._building_atom
        atoms = sorted(set(ba[bid.isin(want).to_numpy()].to_numpy()) - {-1})
        for a in atoms:
            others = set(bid[(ba == a).to_numpy()]) - want
            if others:
                raise RuleViolation(
                    msg("edit_building_group", atom=a, buildings=sorted(others)[:5])
                )
        return self.move_atoms([int(a) for a in atoms], to)

    def merge(self, a: str, b: str) -> RuleReport:
        """Merge two adjacent grids of one community; the lower code stays."""
        self._need_grid(a)
        self._need_grid(b)
        if a == b:
            raise RuleViolation(msg("edit_merge_itself", grid=a))
        self._need_unlocked(a, b)
        ca, cb = self._community(a), self._community(b)
        if ca != cb:
            raise RuleViolation(
                msg("edit_merge_communities", a=a, b=b, community_a=ca, community_b=cb)
            )
        if not self._touches(list(self.atoms_of(a)), b):
            raise RuleViolation(msg("edit_merge_not_adjacent", a=a, b=b))
        self._need_merge_same_kind(a, b)  # --- grids: refuse residential land ---
        keep, gone = sorted([a, b])
        new = self.labels.copy()
        new[new == gone] = keep
        self._need_range(new, [keep], msg("edit_action_merge", a=a, b=b))
        return self._apply(
            new, "merge", {"grids": [a, b]}, msg("edit_merged", gone=gone, keep=keep), {keep, gone}
        )

    def split(self, code: str, line: LineString | None = None, *, seed: int = 0) -> RuleReport:
        """Split a grid in two: balanced automatically, or along a drawn line.

        With ``line`` (projected CRS) each atom goes to the side of the line holding
        most of its area; the boundary follows atom edges, so no atom is cut.
        """
        self._need_grid(code)
        self._need_unlocked(code)
        ids = self.atoms_of(code)
        if len(ids) < 2:
            raise RuleViolation(msg("edit_split_single_atom", grid=code))
        total = int(self.atoms.loc[list(ids), "households"].sum())
        lo = self.settings.grid_min_households
        if line is None and total < 2 * lo:
            raise RuleViolation(
                msg("edit_split_too_few", grid=code, households=total, lo=lo, need=2 * lo)
            )
        pos = self._pos.loc[list(ids)].to_numpy()
        if line is None:
            mask = self._auto_split(pos, seed, code)
            how = msg("edit_how_balanced")
        else:
            mask = self._line_split(code, ids, line)
            how = msg("edit_how_line")
        side_a, side_b = ids[mask], ids[~mask]
        action = msg("edit_action_split", grid=code)
        self._need_compounds_whole(list(side_a), action, within=list(ids))
        new = self.labels.copy()
        hh = self.atoms["households"]
        if hh.loc[side_a].sum() < hh.loc[side_b].sum():
            side_a, side_b = side_b, side_a
        new_code = self._free_code(self._community(code))
        new.loc[list(side_b)] = new_code
        for c in (code, new_code):
            if not self._connected(new, c):
                raise RuleViolation(msg("edit_split_pieces", grid=code, how=how))
        self._need_range(new, [code, new_code], action)
        return self._apply(
            new,
            "split",
            {"grid": code, "new": new_code, "line": None if line is None else line.wkt},
            msg("edit_split", grid=code, how=how, new=new_code),
            {code, new_code},
        )

    def lock(self, *codes: str) -> None:
        """Lock grids: edits and re-divisions leave them as they are."""
        for c in codes:
            self._need_grid(c)
        self._push(EditRecord("lock", {"grids": list(codes)}, str(msg("edit_locked", grids=codes))))
        self.locked = self.locked | set(codes)

    def unlock(self, *codes: str) -> None:
        self._push(
            EditRecord("unlock", {"grids": list(codes)}, str(msg("edit_unlocked", grids=codes)))
        )
        self.locked = self.locked - set(codes)

    def redivide(self, *, seed: int = 0) -> RuleReport:
        """Divide everything but the locked grids again (locked grids keep codes; each
        new grid inherits the code of the old grid whose households it holds most of,
        the others take codes never used before)."""
        from planner.grids.codes import assign_codes
        from planner.grids.keep import inherit_codes

        locked_atoms = self.labels[self.labels.isin(self.locked)]
        res = divide(
            self.street,
            settings=self.settings,
            locked=locked_atoms,
            atoms=self.atoms.reset_index(drop=True),
            communities="given",
            seed=seed,
        )
        old = self.labels.reindex(res.atoms["atom_id"]).set_axis(res.atoms.index)
        heirs = inherit_codes(res.atoms, old, set(self.locked), res.communities, self.settings)
        keep = res.grids.loc[res.grids["code"].isin(self.locked)].set_index("grid_id")["code"]
        keep = pd.concat([keep, heirs])
        grids = assign_codes(
            res.grids.drop(columns=["code"]),
            settings=self.settings,
            communities=res.communities,
            keep=keep,
            retired=(self.retired | set(self.labels)) - set(keep),
        )
        code_of = grids.set_index("grid_id")["code"]
        new = (
            res.atoms.set_index("atom_id")["grid_id"]
            .map(code_of)
            .reindex(self.labels.index)
            .astype(str)
        )
        self.reasons.update(
            {c: r for c, r in zip(grids["code"], grids["reason"], strict=True) if r}
        )
        touched = set(self.labels[~self.labels.isin(self.locked)]) | set(new)
        return self._apply(
            new,
            "redivide",
            {"locked": sorted(self.locked)},
            msg("edit_redivided", locked=len(self.locked)),
            touched,
        )

    def undo(self) -> RuleReport:
        if not self.undo_stack:
            raise RuleViolation(msg("edit_nothing_to_undo"))
        snap = self.undo_stack.pop()
        self.redo_stack.append(_Snapshot(self.labels.copy(), self.locked, snap.record))
        self._restore(snap)
        if snap.record is not None and self.history:
            self.history.pop()
        return self.report

    def redo(self) -> RuleReport:
        if not self.redo_stack:
            raise RuleViolation(msg("edit_nothing_to_redo"))
        snap = self.redo_stack.pop()
        self.undo_stack.append(_Snapshot(self.labels.copy(), self.locked, snap.record))
        self._restore(snap)
        if snap.record is not None:
            self.history.append(snap.record)
        return self.report

    # ------------------------------------------------------------------ internals

    def _retire(self, before: set[str], after: set[str]) -> None:
        """Codes present ``before`` and gone ``after`` are retired; codes back in use
        (an undone merge) are not."""
        self.retired = (self.retired | (before - after)) - after

    def _restore(self, snap: _Snapshot) -> None:
        touched = set(self.labels.unique()) | set(snap.labels.unique())
        self._retire(set(self.labels), set(snap.labels))
        self.labels = snap.labels.copy()
        self.locked = snap.locked
        self._rebuild(touched)
        self.report = self._prove(self.labels)

    def _push(self, record: EditRecord) -> None:
        self.undo_stack.append(_Snapshot(self.labels.copy(), self.locked, record))
        self.redo_stack.clear()
        self.history.append(record)

    def _apply(
        self, new: pd.Series, op: str, args: dict[str, Any], done: Message, touched: set[str]
    ) -> RuleReport:
        """Apply new labels when no rule breaks anew; ``done`` describes the edit."""
        record = EditRecord(op, args, str(done))
        old_labels, old_geom, old_grids = self.labels, dict(self._geom), self._grids
        self.labels = new
        self._rebuild(touched)
        report = self._prove(new)
        before = {(v.rule, v.message) for v in self.report.violations if v.severity == "error"}
        added = [
            v
            for v in report.violations
            if v.severity == "error" and (v.rule, v.message) not in before
        ]
        if added:
            self.labels, self._geom, self._grids = old_labels, old_geom, old_grids
            raise RuleViolation(
                msg(
                    "edit_refused_by_rules",
                    done=done,
                    violations=items((v.text or v.message for v in added[:5]), sep=CLAUSE_SEP),
                )
            )
        self.labels = old_labels
        self._push(record)
        self._retire(set(old_labels), set(new))
        self.labels = new
        self.report = report
        logger.info("%s", record.message)
        return report

    def _prove(self, labels: pd.Series) -> RuleReport:
        return check_grids(
            self._grids, self.street, settings=self.settings, communities=self.communities
        )

    def _rebuild(self, touched: set[str]) -> None:
        """Dissolve the touched grids again and recompute every grid's figures."""
        for c in touched:
            self._geom.pop(c, None)
        present = set(self.labels.unique())
        for c in list(self._geom):
            if c not in present:
                del self._geom[c]
        todo = [c for c in present if c not in self._geom]
        if todo:
            sel = self.atoms[self.labels.isin(todo).to_numpy()]
            lab = self.labels[self.labels.isin(todo)]
            for c, geoms in sel.geometry.groupby(lab.to_numpy()):
                u = shapely.union_all(np.asarray(geoms.values, dtype=object))
                if not u.is_valid:
                    u = shapely.make_valid(u)
                self._geom[str(c)] = u
        a = self.atoms.assign(code=self.labels.to_numpy())
        if "load" not in a.columns:  # --- bounds: atoms saved before the workload column
            a["load"] = a["households"]
        agg = (
            a.drop(columns="geometry")
            .groupby("code")
            .agg(
                community_id=("community_id", "first"),
                households=("households", "sum"),
                population=("population", "sum"),
                buildings=("buildings", "sum"),
                atoms=("atom_id", "size"),
                load=("load", "sum"),
            )
            .reset_index()
        )
        geoms = [self._geom[c] for c in agg["code"]]
        g = gpd.GeoDataFrame(agg, geometry=geoms, crs=self.atoms.crs)
        names = self.communities.set_index("community_id")["name"]
        g["community"] = [str(names.get(c, "")) for c in g["community_id"]]
        g["grid_id"] = np.arange(len(g))
        g["code_provisional"] = provisional_codes(g["code"])
        g["area_m2"] = g.geometry.area
        g["compactness"] = 4 * np.pi * g["area_m2"] / np.maximum(g.geometry.length, 1e-9) ** 2
        g["locked"] = g["code"].isin(self.locked)
        lo, hi = self.settings.grid_min_households, self.settings.grid_max_households
        inr = g["households"].between(lo, hi)
        g["reason"] = np.where(inr, "", [self.reasons.get(c, "") for c in g["code"]])
        self._kinds_and_shape(g, todo)  # --- dedicated ---
        self._grids = g[[*GRID_COLUMNS, "geometry"]]

    def _kinds_and_shape(self, g: gpd.GeoDataFrame, todo: list[str]) -> None:
        """``kind``, ``land_use``, ``reason`` of dedicated grids, ``feature_share`` (kept
        per code: computed for the grids in ``todo`` only) and ``shape_reason`` ('')."""
        kinds = grid_kinds(self.labels.to_numpy(), self.atoms)
        g["kind"] = g["code"].map(kinds["kind"]).fillna(KIND_RESIDENTIAL).astype(str)
        g["land_use"] = g["code"].map(kinds["land_use"]).fillna("").astype(str)
        g["reason"] = _dedicated_reasons(g)
        feat: dict[str, float] = getattr(self, "_feature", {})
        feat = {c: v for c, v in feat.items() if c in set(g["code"])}
        new = g[g["code"].isin(todo) | ~g["code"].isin(list(feat))]
        if len(new):
            if getattr(self, "_tree", None) is None:
                self._tree = feature_tree(self.street)
            own = internal_boundaries(new.geometry.values, self.street.boundary_geom)
            length, on = on_feature_length(own, self._tree)
            share = np.where(length > 0, on / np.maximum(length, 1e-9), np.nan)
            feat.update(dict(zip(new["code"], share, strict=True)))
        self._feature = feat
        g["feature_share"] = g["code"].map(feat).astype(float)
        g["shape_reason"] = ""

    def _need_grid(self, code: str) -> None:
        if code not in set(self.labels):
            raise RuleViolation(msg("edit_no_grid", grid=code))

    def _need_unlocked(self, *codes: str) -> None:
        for c in codes:
            if c in self.locked:
                raise RuleViolation(msg("edit_grid_locked", grid=c))

    # --- grids: residential land never goes into a dedicated grid ---

    def _dedicated_use(self, code: str) -> str | None:
        """The land use of grid ``code`` when it is a dedicated grid, else None."""
        row = self._grids.loc[self._grids["code"] == code]
        if len(row) == 0 or str(row["kind"].iloc[0]) != KIND_DEDICATED:
            return None
        return str(row["land_use"].iloc[0])

    def _residential(self, ids: list[int]) -> NDArray[np.bool_]:
        """Which of the atoms ``ids`` are residential land: they hold households or lie
        in a compound."""
        sub = self.atoms.loc[list(ids)]
        return np.asarray(
            (sub["households"].to_numpy(dtype=float) > 0)
            | (sub["compound_id"].astype(str).to_numpy() != ""),
            dtype=bool,
        )

    def _need_not_dedicated(self, ids: list[int], to: str, what: Message) -> None:
        """Refuse moving residential atoms into the dedicated grid ``to`` (a dedicated
        grid never absorbs residential land, :mod:`planner.grids.dedicated`); land
        without households (a verge) may go."""
        use = self._dedicated_use(to)
        if use is None:
            return
        res = self._residential(ids)
        if res.any():
            atom = int(np.asarray(ids)[res][0])
            raise RuleViolation(
                msg("edit_into_dedicated", what=what, grid=to, land_use=use, atom=atom)
            )

    def _need_merge_same_kind(self, a: str, b: str) -> None:
        """Refuse merging a dedicated grid with a grid holding residential land."""
        for ded, other in ((a, b), (b, a)):
            use = self._dedicated_use(ded)
            if use is not None and self._residential(list(self.atoms_of(other))).any():
                raise RuleViolation(
                    msg("edit_merge_dedicated", dedicated=ded, land_use=use, other=other)
                )

    def _community(self, code: str) -> str:
        return str(self.atoms.loc[self.labels == code, "community_id"].iloc[0])

    def _touches(self, ids: list[int], code: str) -> bool:
        pos = self._pos.loc[list(ids)].to_numpy()
        other = self._pos.loc[list(self.atoms_of(code))].to_numpy()
        return bool(self._adj[pos][:, other].nnz > 0)

    def _connected(self, labels: pd.Series, code: str) -> bool:
        pos = self._pos.loc[labels.index[labels == code]].to_numpy()
        if len(pos) <= 1:
            return True
        n, _ = csgraph.connected_components(self._adj[pos][:, pos], directed=False)
        return bool(n == 1)

    def _need_compounds_whole(
        self, ids: list[int], what: Message, within: list[int] | None = None
    ) -> None:
        """Refuse when the atoms take only part of a compound at most the maximum."""
        comp = self.atoms["compound_id"].astype(str)
        comm = self.atoms["community_id"].astype(str)
        hi = self.settings.grid_max_households
        scope = self.atoms.index if within is None else pd.Index(within)
        for c in set(comp.loc[ids]) - {""}:
            members = comp.index[(comp == c) & comm.eq(comm.loc[ids[0]])].intersection(scope)
            total = int(self.atoms.loc[comp.index[comp == c], "households"].sum())
            if total > hi:
                continue
            rest = sorted(set(members) - set(ids))
            if rest:
                raise RuleViolation(
                    msg(
                        "edit_cuts_compound",
                        what=what,
                        compound=c,
                        households=total,
                        hi=hi,
                        atoms=sorted(members),
                    )
                )

    def _need_range(self, labels: pd.Series, codes: list[str], action: Message) -> None:
        lo, hi = self.settings.grid_min_households, self.settings.grid_max_households
        hh = self.atoms["households"]
        for c in codes:
            new = int(hh[labels == c].sum())
            old = int(hh[self.labels == c].sum()) if (self.labels == c).any() else None
            if lo <= new <= hi:
                continue
            worse = old is None or (
                not (lo <= old <= hi)
                and abs(new - np.clip(new, lo, hi)) >= abs(old - np.clip(old, lo, hi))
            )
            if old is None or lo <= old <= hi or worse:
                key = "edit_below_minimum" if new < lo else "edit_above_maximum"
                raise RuleViolation(msg(key, action=action, grid=c, households=new, lo=lo, hi=hi))

    def _free_code(self, community_id: str) -> str:
        row = self.communities[self.communities["community_id"] == community_id]
        comm_code = str(row["code"].iloc[0]) if len(row) else "000"
        prefix = code_prefix(self.settings, comm_code)
        digits = sequence_digits(self.settings)
        free = free_sequences(prefix, set(self.labels) | self.retired, 1, digits=digits)
        if free:
            return f"{prefix}{free[0]:0{digits}d}"
        raise RuleViolation(msg("edit_no_free_code", community=community_id))

    def _auto_split(self, pos: NDArray[np.int64], seed: int, code: str) -> NDArray[np.bool_]:
        a = self.atoms.iloc[pos]
        c = shapely.get_coordinates(shapely.centroid(np.asarray(a.geometry.values, dtype=object)))
        g = part.Graph(
            adj=self._adj,
            weight=self.atoms["households"].to_numpy(dtype=float),
            xy=np.zeros((len(self.atoms), 2)),
            area=self.atoms["area_m2"].to_numpy(dtype=float),
            perimeter=self.atoms["perimeter_m"].to_numpy(dtype=float),
        )
        g.xy[pos] = c
        # units: compound atoms (at most the maximum) stay together
        rng = np.random.default_rng(seed)
        lo, hi = self.settings.grid_min_households, self.settings.grid_max_households
        key = a["compound_id"].astype(str).to_numpy()
        total_by = a.groupby(key)["households"].sum()
        grouped = (key != "") & (pd.Series(key).map(total_by).to_numpy() <= hi)
        unit = np.arange(len(pos))
        if grouped.any():
            first = pd.Series(np.arange(len(pos))).groupby(key).transform("first").to_numpy()
            unit = np.where(grouped, first, unit)
        _, unit = np.unique(unit, return_inverse=True)
        sub = part.Graph(
            adj=self._adj[pos][:, pos],
            weight=g.weight[pos],
            xy=c,
            area=g.area[pos],
            perimeter=g.perimeter[pos],
        )
        ug = _unit_graph(sub, unit, int(unit.max()) + 1)
        side = part.bisect(ug, np.arange(ug.n), 2, lo=lo, hi=hi, rng=rng)
        if side is None:
            raise RuleViolation(msg("edit_split_impossible", grid=code))
        mask, _ = side
        return np.asarray(mask[unit], dtype=bool)

    def _line_split(self, code: str, ids: NDArray[np.int64], line: LineString) -> NDArray[np.bool_]:
        grid = self._geom[code]
        pieces = shapely.get_parts(split_geometry(grid, line)) if line.intersects(grid) else []
        if len(pieces) < 2:
            raise RuleViolation(msg("edit_line_not_across", grid=code))
        pieces = np.asarray(pieces, dtype=object)
        # two sides: the largest piece and everything else on the far side of the line
        reach = 4 * float(np.sqrt(shapely.area(grid))) + line.length
        left = shapely.buffer(line, reach, single_sided=True)
        right = shapely.buffer(line, -reach, single_sided=True)
        side_of_piece = shapely.area(shapely.intersection(pieces, left)) > shapely.area(
            shapely.intersection(pieces, right)
        )
        geoms = np.asarray(self.atoms.loc[ids].geometry.values, dtype=object)
        in_left = (
            shapely.area(shapely.intersection(geoms, shapely.union_all(pieces[side_of_piece])))
            if side_of_piece.any()
            else np.zeros(len(ids))
        )
        mask = in_left > 0.5 * shapely.area(geoms)
        if mask.all() or not mask.any():
            raise RuleViolation(msg("edit_line_one_side", grid=code))
        return np.asarray(mask, dtype=bool)
