"""User-facing strings of the red map and the app, in Simplified Chinese and English.

Chinese is the default language. :func:`t` looks a key up and formats it; an unknown
key raises ``KeyError`` (so a typo fails in the tests, not silently on screen).

Messages the library itself produces (an edit's refusal, the lines of the grid-rule
report) are :class:`Message` objects: a key and its parameters (grid codes, ids,
counts), rendered in either language where they are shown; ``str()`` of one is its
English, the text the command line prints. Their strings live here too (keys ``edit_*``,
``rule_*``, ``grid_reason_*``), so this module is the one place for every string.

Examples
--------
>>> t("households", "en")
'Households'
>>> t("walk_note", "zh", speed=4.0)
'步行速度假设：4.0 km/h'
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["zh", "en"]
#: Separators of a listing in each language: (Chinese, English).
LIST_SEP: tuple[str, str] = ("、", ", ")
#: Separators of a listing of clauses: (Chinese, English).
CLAUSE_SEP: tuple[str, str] = ("；", "; ")
LANGS: tuple[Lang, ...] = ("zh", "en")
LANG_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}

#: key -> (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
    # data completeness (load report, summary, maps, app)
    "completeness_title": (
        "数据完整性：各来源的建筑与户数",
        "Data completeness: buildings and households by source",
    ),
    "completeness_source": ("户数来源", "Households from"),
    "completeness_buildings": ("建筑", "Buildings"),
    "completeness_households": ("户数", "Households"),
    "completeness_total": ("合计", "Total"),
    "completeness_non_residential": (
        "其中 {n} 栋为非住宅建筑（学校、办公、商业等），户数为 0",
        "of which {n} non-residential buildings (school, office, shop...) with 0 households",
    ),
    "completeness_warning": (
        "⚠ 警告：{estimated} 的户数为按建筑面积估算，{unknown} 的建筑（{n_unknown} 栋）用途不明、户数未知；"
        "网格规模与覆盖率建立在这些估计之上。请提供住户登记表（--register）替换估算值。",
        "⚠ WARNING: {estimated} of the households are estimated from floor area and "
        "{unknown} of the buildings ({n_unknown}) are of unknown use, households unknown; "
        "grid sizes and coverage shares rest on these guesses. Give a household register "
        "(--register) to replace them.",
    ),
    "completeness_short": (
        "户数来源：登记 {register}，数据 {data}，估算 {estimate}，未知建筑 {unknown} 栋",
        "Households from: register {register}, data {data}, estimate {estimate}; "
        "{unknown} buildings of unknown use",
    ),
    "service_kinds": ("计入党群服务站的站点类型", "Station kinds counted as service stations"),
    "service_kinds_help": (
        "这些类型的站点计算15分钟服务圈与覆盖率；其他站点只在地图上显示",
        "Stations of these kinds make the service circles and coverage; others are only drawn",
    ),
    "station_kinds_file": ("站点类型对照表（可选）", "Station-kinds mapping (optional)"),
    "station_kinds_help": (
        "两列：原文,类型（如 社区食堂,neighbourhood_centre），或 YAML 文件每行「原文: 类型」，"
        "把登记表里的站点类型名称对应到目录中的类型",
        "Two columns text,kind (e.g. 社区食堂,neighbourhood_centre), or a YAML file of "
        "'text: kind' lines: the register's own kind names mapped to catalogue kinds",
    ),
    "hh_source_register": ("住户登记表", "register"),
    "hh_source_data": ("数据标注", "OSM tag / layer value"),
    "hh_source_estimate": ("面积估算", "estimate"),
    "hh_source_unknown": ("未知", "unknown"),
    # app frame
    "app_title": ("红色地图 · 网格与15分钟服务圈", "Red map · grids and 15-minute service circles"),
    "language": ("语言 / Language", "Language / 语言"),
    "page": ("页面", "Page"),
    "page_overview": ("概览", "Overview"),
    "page_redmap": ("红色地图", "Red map"),
    "page_editor": ("网格编辑", "Grid editor"),
    "page_siting": ("站点选址", "Siting"),
    "page_export": ("导出", "Export"),
    "street": ("街道数据", "Street"),
    "source": ("数据来源", "Source"),
    "source_demo": ("示例街道（合成数据）", "Demo street (synthetic)"),
    "source_upload": ("上传图层文件", "Upload layer files"),
    "source_osm": (
        "上传 OSM 数据（.osm / .osm.xml / .osm.pbf）",
        "Upload an OSM extract (.osm / .osm.xml / .osm.pbf)",
    ),
    "source_place": ("地名（需联网）", "Place name (online)"),
    "upload_help": (
        "上传一个文件夹的 zip 包，或多个图层文件（boundary、communities、compounds、buildings、"
        "roads、stations；GeoJSON、GPKG、Shapefile 或 CSV）。上限 {limit} MB。",
        "Upload a zip of a folder, or layer files (boundary, communities, compounds, buildings, "
        "roads, stations; GeoJSON, GPKG, Shapefile or CSV). Limit {limit} MB.",
    ),
    "points_crs": ("CSV 点坐标系", "CSV point coordinates"),
    "stations_file": (
        "站点文件（可选，替换数据中的站点）",
        "Stations file (optional, replaces the source's)",
    ),
    "register_file": ("住户登记表（可选，CSV/XLSX）", "Household register (optional, CSV/XLSX)"),
    "place_name": ("地名或区域名", "Place name"),
    "load": ("加载", "Load"),
    "loaded": ("已加载：{name}", "Loaded: {name}"),
    "load_failed": ("加载失败，当前街道未改变：", "Load failed; the current street is unchanged:"),
    "load_report": ("加载报告", "Load report"),
    "basemap": ("底图", "Basemap"),
    "basemap_none": ("无（离线）", "None (offline)"),
    "basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "basemap_tianditu": ("天地图（需密钥）", "Tianditu (needs a key)"),
    "basemap_amap": ("高德地图（GCJ-02）", "Amap (GCJ-02)"),
    "tianditu_key": ("天地图密钥 (tk)", "Tianditu key (tk)"),
    "tianditu_no_key": (
        "天地图需要用户密钥（tk），没有密钥时天地图拒绝请求，因此未加载底图。请在上方填写密钥。",
        "Tianditu refuses requests without a user key (tk), so no basemap is loaded. "
        "Enter your key above.",
    ),
    "amap_note": (
        "高德底图为 GCJ-02 坐标，图层已相应偏移以对齐。",
        "Amap tiles are in GCJ-02; the layers are shifted to match.",
    ),
    "online_note": ("底图瓦片需联网获取。", "Basemap tiles are fetched from the internet."),
    "settings": ("参数设置", "Settings"),
    "walk_speed": ("步行速度 (km/h)", "Walking speed (km/h)"),
    "thresholds": ("服务圈阈值（分钟）", "Service-circle thresholds (minutes)"),
    "household_range": ("每个网格户数范围", "Households per grid"),
    "apply": ("应用", "Apply"),
    "static_off": (
        "地图脚本未被提供：请在项目文件夹中启动应用（scripts/run.sh，或在该文件夹中运行 "
        "streamlit run app.py），以读取 .streamlit/config.toml。",
        "The map's scripts are not being served: start the app from the project folder "
        "(scripts/run.sh, or streamlit run app.py in that folder) so .streamlit/config.toml "
        "is read.",
    ),
    "step_coverage": ("服务圈覆盖", "Coverage"),
    "step_grids": ("网格划分", "The grid division"),
    "cannot_compute": (
        "无法计算{what}：{why}",
        "{what} could not be computed: {why}",
    ),
    "upload_too_big": (
        "文件 {name} 为 {size:.1f} MB，超过上限 {limit} MB。",
        "File {name} is {size:.1f} MB, over the {limit} MB limit.",
    ),
    # map
    "legend": ("图例", "Legend"),
    "synthetic_note": (
        "合成数据：示例街道，并非真实地点",
        "Synthetic data: a demo street, not a real place",
    ),
    "walk_note": ("步行速度假设：{speed} km/h", "Walking speed assumed: {speed} km/h"),
    "map_title": ("{name} 红色地图", "{name} red map"),
    "map_subtitle": (
        "{minutes:g} 分钟步行党群服务圈",
        "{minutes:g}-minute walking service circles",
    ),
    "map_speed_note": (
        "步行速度 {speed:g} km/h（{minutes:g} 分钟 ≈ {metres:,.0f} m，沿步行路网计算）",
        "Walking speed {speed:g} km/h ({minutes:g} min ≈ {metres:,.0f} m along the walking network)",
    ),
    "codes_provisional": (
        "网格编码为临时编码：县级区划代码或街道代码未知（写作 000000 / 000），"
        "请用 {missing} 或 street.json 的 code_county / code_street 给出",
        "grid codes are provisional: the county or street code is not known (written as "
        "000000 / 000); give {missing} or code_county / code_street in street.json",
    ),
    "codes_provisional_map": (
        "网格编码为临时编码（县级/街道代码未知）",
        "Grid codes are provisional (county/street code not known)",
    ),
    "map_made": ("制图：planner，{date}", "Made with planner, {date}"),
    "map_covered": (
        "{minutes:g} 分钟覆盖户数 {share:.1%}",
        "Households within {minutes:g} min: {share:.1%}",
    ),
    "legend_rivers": ("河流", "Rivers"),
    "legend_railways": ("铁路", "Railways"),
    "layer_boundary": ("街道边界", "Street boundary"),
    "layer_communities": ("社区", "Communities"),
    "layer_compounds": ("小区", "Compounds"),
    "layer_buildings": ("楼栋", "Buildings"),
    "layer_roads": ("道路", "Roads"),
    "layer_grids": ("网格", "Grids"),
    "layer_landuse": ("用地", "Land use"),
    "layer_barriers": ("河流与铁路", "Rivers and railways"),
    "layer_atoms": ("网格单元", "Grid atoms"),
    "layer_circle": ("{minutes:g} 分钟服务圈", "{minutes:g}-minute circle"),
    "layer_gaps": ("服务盲区", "Coverage gaps"),
    "layer_uncovered": ("未覆盖小区", "Uncovered compounds"),
    "layer_stations": ("服务站点", "Stations"),
    "layer_sites": ("建议新站点", "Proposed sites"),
    "north": ("北", "N"),
    "name": ("名称", "Name"),
    "kind": ("类型", "Kind"),
    "households": ("户数", "Households"),
    "walk_time": ("步行时间（分钟）", "Walking time (min)"),
    "nearest_station": ("最近站点", "Nearest station"),
    "floor_area": ("面积 (m²)", "Floor area (m²)"),
    "opening_hours": ("开放时间", "Opening hours"),
    "code": ("编码", "Code"),
    "community": ("社区", "Community"),
    "grid": ("网格", "Grid"),
    "atom": ("网格单元", "Atom"),
    "covered_share": ("覆盖率", "Share covered"),
    "outside_street": ("（街道外）", "(outside the street)"),
    "cut_off_station": (
        "未接入主路网：所在路网碎片 {nodes} 个节点，距主路网 {dist_m} m，仅服务该碎片",
        "cut off from the main walking network: on a piece of {nodes} nodes, "
        "{dist_m} m from the main network; serves only that piece",
    ),
    # overview
    "key_figures": ("主要指标", "Key figures"),
    "grids": ("网格数", "Grids"),
    "stations": ("站点数", "Stations"),
    "covered_at": ("{minutes:g} 分钟覆盖", "Covered in {minutes:g} min"),
    "covered_households": ("{minutes:g} 分钟覆盖户数", "Households within {minutes:g} min"),
    "not_covered": ("未覆盖户数", "Households not covered"),
    "households_in_gaps": ("盲区户数", "Households in gaps"),
    "per_community": ("各社区", "Per community"),
    "per_grid": ("各网格", "Per grid"),
    "worst_compounds": ("服务最差的小区", "Worst-served compounds"),
    "street_layers": ("街道图层", "Street layers"),
    "count": ("数量", "Count"),
    "area_km2": ("面积 (km²)", "Area (km²)"),
    "atoms": ("网格单元", "atoms"),
    # raw data names (load-report layers and table columns), see layer_name / column_label
    "data_boundary": ("边界", "Boundary"),
    "data_communities": ("社区", "Communities"),
    "data_compounds": ("小区", "Compounds"),
    "data_buildings": ("楼栋", "Buildings"),
    "data_gates": ("出入口", "Gates"),
    "data_roads": ("道路", "Roads"),
    "data_barriers": ("河流铁路", "Rivers and railways"),
    "data_landuse": ("用地", "Land use"),
    "data_nodes": ("路网节点", "Network nodes"),
    "data_edges": ("路网路段", "Network links"),
    "data_stations": ("站点", "Stations"),
    "data_pois": ("兴趣点", "Points of interest"),
    "col_community_id": ("社区编号", "Community id"),
    "col_residents": ("人口", "Residents"),
    "col_buildings": ("楼栋", "Buildings"),
    "col_area_m2": ("面积 (m²)", "Area (m²)"),
    "col_note": ("说明", "Note"),
    "col_rank": ("序号", "Rank"),
    "col_households_newly_covered": ("新增覆盖户数", "Households newly covered"),
    "col_households_served": ("服务户数", "Households served"),
    "col_recommended_floor_area_m2": ("建议面积 m²", "Recommended floor area (m²)"),
    "col_compound_id": ("小区编号", "Compound id"),
    "col_households_uncovered": ("未覆盖户数", "Households not covered"),
    "col_nearest_station_id": ("最近站点编号", "Nearest station id"),
    "col_nearest_station_name": ("最近站点", "Nearest station"),
    "col_time_min": ("步行时间（分钟）", "Walking time (min)"),
    "col_time_max_min": ("最长步行时间（分钟）", "Longest walk (min)"),
    "col_walk_m": ("步行距离 (m)", "Walking distance (m)"),
    "col_scenario": ("方案", "Scenario"),
    "col_new_sites": ("新增站点数", "New sites"),
    "severity_error": ("错误", "Error"),
    "severity_warning": ("警告", "Warning"),
    "severity_repair": ("已修复", "Repaired"),
    # editor
    "editor_help": (
        "点击地图选择网格单元或网格；画线可拆分网格。每次编辑后自动检查规则并保存项目。",
        "Click the map to select atoms or grids; draw a line to split a grid. Rules are "
        "re-checked and the project autosaved after every edit.",
    ),
    "selected": ("已选择", "Selected"),
    "clear_selection": ("清除选择", "Clear selection"),
    "move_to": ("移动到网格", "Move to grid"),
    "move": ("移动", "Move"),
    "merge": ("合并", "Merge"),
    "split": ("按画线拆分", "Split along drawn line"),
    "lock": ("锁定", "Lock"),
    "unlock": ("解锁", "Unlock"),
    "redivide": ("重新划分", "Re-divide"),
    "undo": ("撤销", "Undo"),
    "redo": ("重做", "Redo"),
    "edit_refused": ("编辑被拒绝：{reason}", "Edit refused: {reason}"),
    "edit_done": ("已完成：{what}", "Done: {what}"),
    "autosave_failed": (
        "自动保存失败（编辑仍有效）：{reason}",
        "Autosave failed (the edit stands): {reason}",
    ),
    "open_failed": ("无法打开项目文件：{reason}", "Cannot open the project file: {reason}"),
    "rule_report": ("规则检查", "Rule report"),
    "rules_ok": ("所有规则均满足。", "All rules hold."),
    "save_project": ("保存项目文件", "Save project file"),
    "open_project": ("打开项目文件", "Open project file"),
    "autosaved": ("已自动保存到 {path}", "Autosaved to {path}"),
    "read_only_note": (
        "只读：此项目来自共享链接（或页面已重新加载），属于打开它的会话。"
        "如需编辑，请先“复制为我的项目”，原项目不会被改动。",
        "Read-only: this project came from a shared link (or the page was reloaded) and "
        "belongs to the session that made it. To edit, make your own copy first; the "
        "original stays as it is.",
    ),
    "make_copy": ("复制为我的项目", "Make my copy"),
    "copy_made": ("已复制为新项目 {project}", "Copied into the new project {project}"),
    "edit_read_only": (
        "此项目为只读，请先“复制为我的项目”",
        "this project is read-only; make your own copy first",
    ),
    # siting
    "siting_mode": ("方式", "Mode"),
    "siting_k": ("新增站点数", "Number of new stations"),
    "siting_target": ("目标覆盖率", "Target share covered"),
    "run_siting": ("计算", "Compute"),
    "siting_not_reached": ("目标覆盖率无法达到", "The target share cannot be reached"),
    "before": ("现状", "Before"),
    "after": ("新增后", "After"),
    "scenarios": ("方案比较", "Scenarios"),
    "save_scenario": ("保存为方案", "Save as scenario"),
    # export
    "download": ("下载", "Download"),
    "export_intro": (
        "与命令行 `python -m planner run --no-siting` 写出的文件完全相同（文件名、列、内容），"
        "按当前街道和设置生成。",
        "The very files `python -m planner run --no-siting` writes (names, columns, "
        "contents), for the street and settings on screen.",
    ),
    "export_all": ("全部文件（ZIP）", "All files (zip)"),
    "export_geojson": ("各图层 GeoJSON", "GeoJSON per layer"),
    "export_tables": ("表格：CSV 与 Excel", "Tables: CSV and Excel"),
    "export_gis": ("GeoPackage 与 Shapefile", "GeoPackage and Shapefile"),
    "export_maps": ("红色地图：HTML、PNG、PDF", "Red map: HTML, PNG, PDF"),
    "export_proof": ("网格规则证明与运行摘要", "Grid-rule proof and run summary"),
    "export_other": ("其他文件", "Other files"),
    "export_png": ("生成地图 PNG 和 PDF", "Make the map PNG and PDF"),
    "no_data": ("暂无数据", "No data"),
    # grid edits (planner.grids.edits): refusals and edit records; the English is the text
    # of RuleViolation and EditRecord.message (CLI, logs, project file)
    "edit_what_atom": ("网格单元 {atom}", "atom {atom}"),
    "edit_what_atoms": ("网格单元 {atoms}", "atoms {atoms}"),
    "edit_action_move": ("移动{what}", "moving {what}"),
    "edit_action_merge": ("合并网格 {a} 和 {b}", "merging grids {a} and {b}"),
    "edit_action_split": ("拆分网格 {grid}", "splitting grid {grid}"),
    "edit_how_balanced": ("均衡", "balanced"),
    "edit_how_line": ("沿所画的线", "along the drawn line"),
    "edit_no_atom": ("没有网格单元 {atom}", "there is no atom {atom}"),
    "edit_no_grid": ("没有网格 {grid}", "there is no grid {grid}"),
    "edit_no_building": ("没有楼栋 {building}", "there is no building {building}"),
    "edit_atoms_in_several_grids": (
        "网格单元 {atoms} 分属网格 {grids}；每次只能移动同一网格的网格单元",
        "atoms {atoms!r} lie in grids {grids!r}; move atoms of one grid at a time",
    ),
    "edit_already_in_grid": ("{what} 已在网格 {grid} 中", "{what} already in grid {grid}"),
    "edit_grid_locked": ("网格 {grid} 已锁定，请先解锁", "grid {grid} is locked; unlock it first"),
    "edit_other_community": (
        "将{what} 移到网格 {grid} 会把社区 {community} 的土地并入社区 {to_community} 的网格",
        "moving {what} to grid {grid} would put community {community} land into a grid of "
        "community {to_community}",
    ),
    "edit_not_adjacent_one": (
        "{what} 与网格 {grid} 没有公共边",
        "{what} does not share an edge with grid {grid}",
    ),
    "edit_not_adjacent_many": (
        "{what} 与网格 {grid} 没有公共边",
        "{what} do not share an edge with grid {grid}",
    ),
    "edit_leaves_empty": (
        "移动{what} 会使网格 {grid} 变空；请改为合并网格",
        "moving {what} would leave grid {grid} empty; merge the grids instead",
    ),
    "edit_leaves_two_pieces": (
        "移动{what} 会使网格 {grid} 分成两块",
        "moving {what} would leave grid {grid} in two pieces",
    ),
    "edit_building_group": (
        "网格单元 {atom} 还包含楼栋 {buildings}：楼栋组必须包含其网格单元的全部楼栋",
        "atom {atom} also holds building(s) {buildings}: a building group must take every "
        "building of its atoms",
    ),
    "edit_merge_itself": ("不能将网格 {grid} 与自身合并", "cannot merge grid {grid} with itself"),
    "edit_merge_communities": (
        "网格 {a} 和 {b} 属于不同社区（{community_a}、{community_b}）",
        "grids {a} and {b} lie in different communities ({community_a}, {community_b})",
    ),
    "edit_merge_not_adjacent": (
        "网格 {a} 和 {b} 没有公共边",
        "grids {a} and {b} do not share an edge",
    ),
    "edit_split_single_atom": (
        "网格 {grid} 只有一个网格单元，无法拆分",
        "grid {grid} is a single atom and cannot be split",
    ),
    "edit_split_too_few": (
        "网格 {grid} 有 {households} 户：两个各不少于 {lo} 户的网格共需 {need} 户，"
        "拆分会使一部分低于下限 {lo} 户",
        "grid {grid} holds {households} households: two grids of at least {lo} need {need}, "
        "so it would leave a part below the minimum {lo}",
    ),
    "edit_split_pieces": (
        "{how}拆分网格 {grid} 会使其中一部分分成多块",
        "splitting grid {grid} {how} would leave a part in several pieces",
    ),
    "edit_split_impossible": (
        "网格 {grid} 无法拆分：其网格单元无法分成两部分",
        "grid {grid} cannot be split: its atoms cannot be cut in two",
    ),
    "edit_line_not_across": (
        "所画的线没有从一边到另一边穿过网格 {grid}",
        "the drawn line does not cross grid {grid} from edge to edge",
    ),
    "edit_line_one_side": (
        "所画的线使网格 {grid} 的全部网格单元都在同一侧",
        "the drawn line leaves every atom of grid {grid} on one side",
    ),
    "edit_cuts_compound": (
        "{what} 会拆开小区 {compound}（{households} 户，不超过上限 {hi} 户）；"
        "其网格单元 {atoms} 必须留在一起",
        "{what} would cut compound {compound} ({households} households, at most the maximum "
        "{hi}); its atoms {atoms} must stay together",
    ),
    "edit_below_minimum": (
        "{action} 会使网格 {grid} 只有 {households} 户，低于下限 {lo} 户",
        "{action} would leave grid {grid} with {households} households, below the minimum {lo}",
    ),
    "edit_above_maximum": (
        "{action} 会使网格 {grid} 有 {households} 户，超过上限 {hi} 户",
        "{action} would leave grid {grid} with {households} households, above the maximum {hi}",
    ),
    "edit_no_free_code": (
        "社区 {community} 已没有可用的网格编码",
        "community {community} has no free grid code left",
    ),
    "edit_nothing_to_undo": ("没有可撤销的编辑", "nothing to undo"),
    "edit_nothing_to_redo": ("没有可重做的编辑", "nothing to redo"),
    "edit_refused_by_rules": ("{done} 被拒绝：{violations}", "{done} refused: {violations}"),
    "edit_moved": (
        "将{what} 从网格 {source} 移到网格 {grid}",
        "moved {what} from grid {source} to grid {grid}",
    ),
    "edit_merged": ("将网格 {gone} 并入网格 {keep}", "merged grid {gone} into grid {keep}"),
    "edit_split": (
        "{how}拆分网格 {grid}；新网格 {new}",
        "split grid {grid} {how}; new grid {new}",
    ),
    "edit_locked": ("锁定网格 {grids}", "locked {grids}"),
    "edit_unlocked": ("解锁网格 {grids}", "unlocked {grids}"),
    "edit_redivided": (
        "重新划分除 {locked} 个已锁定网格外的全部网格",
        "re-divided all but {locked} locked grid(s)",
    ),
    # why a grid's households are out of range (planner.grids.division, the grids' ``reason``
    # column; the column holds the English, read back by from_english for display)
    "grid_reason_single_building": (
        "网格单元 {atom} 一个就有 {households} 户（超过 {hi} 户），且无法在楼栋之间再分（只有一栋楼）",
        "atom {atom} alone holds {households} households (> {hi}) and cannot be cut between "
        "buildings (a single building)",
    ),
    "grid_reason_small_community": (
        "社区 {community} 只有 {households} 户，低于下限 {lo} 户",
        "community {community} holds only {households} households, below the minimum {lo}",
    ),
    "grid_reason_small_piece": (
        "社区 {community}（与社区其余部分不相连的一块）只有 {households} 户，低于下限 {lo} 户",
        "community {community} (a piece not touching the rest of the community) holds only "
        "{households} households, below the minimum {lo}",
    ),
    "grid_reason_no_count": (
        "社区 {community} 有 {households} 户：无论划成几个网格，都无法使每个网格在 {lo}-{hi} 户之间",
        "community {community} holds {households} households: no number of grids puts each "
        "in {lo}-{hi}",
    ),
    "grid_reason_whole_pieces": (
        "{households} 户分布在必须保持完整的若干块中（最大 {largest} 户）：在完整小区和网格单元之间"
        "无论怎样切分都达不到 {lo}-{hi} 户",
        "{households} households in pieces that must stay together (largest {largest}): no "
        "cut between whole compounds and atoms reaches {lo}-{hi}",
    ),
    "grid_reason_no_join": (
        "{households} 户：并入社区内相邻网格会超过 {hi} 户，重新拆分这两个网格也无法使两者都在 "
        "{lo}-{hi} 户之间",
        "{households} households: joining a neighbouring grid of the community would exceed "
        "{hi}, and no re-split of the pair keeps both within {lo}-{hi}",
    ),
    # grid rules (planner.grids.rules): titles, figures, violations and the report's lines;
    # the English is RuleReport.to_text() and the JSON of check-grids
    "rule_title_coverage": (
        "覆盖全域、无缝（网格恰好覆盖整个街道）",
        "grids cover the street exactly (覆盖全域、无缝)",
    ),
    "rule_title_no_overlap": ("不重叠（任意两个网格互不重叠）", "no two grids overlap (不重叠)"),
    "rule_title_one_polygon": (
        "边界清晰（每个网格是一个多边形）",
        "every grid is one polygon (边界清晰)",
    ),
    "rule_title_one_community": (
        "不跨社区（每个网格只在一个社区内）",
        "every grid lies in one community (不跨社区)",
    ),
    "rule_title_buildings_whole": ("楼栋完整（没有楼栋被切分）", "no building is cut (楼栋完整)"),
    "rule_title_compounds_whole": ("小区完整（没有小区被切分）", "no compound is cut (小区完整)"),
    "rule_title_households_in_range": (
        "规模适度（每个网格的户数在范围内）",
        "households per grid in range (规模适度)",
    ),
    "rule_title_codes": (
        "编码规范（编码唯一且格式正确）",
        "codes are unique and well formed (编码规范)",
    ),
    "rule_title_with_range": ("{title} {lo}-{hi} 户", "{title} {lo}-{hi}"),
    "rule_fig_coverage": (
        "差异 {share:.4f}%（街道面积 {area_km2:.3f} km²，上限 {limit:.2f}%）",
        "difference {share:.4f}% of {area_km2:.3f} km² (limit {limit:.2f}%)",
    ),
    "rule_fig_overlap": (
        "重叠总面积 {total:,.2f} m²（上限 {limit:g} m²）",
        "total overlap {total:,.2f} m² (limit {limit:g} m²)",
    ),
    "rule_fig_one_polygon": (
        "{ok}/{n} 个网格为单一多边形",
        "{ok} of {n} grids are single polygons",
    ),
    "rule_fig_no_communities": (
        "未提供社区：整个街道视为一个社区",
        "no communities given: the street is one community",
    ),
    "rule_fig_community_named": (
        "{ok}/{n} 个网格注明了一个社区",
        "{ok} of {n} grids name one community",
    ),
    "rule_fig_one_community": (
        "{ok}/{n} 个网格只在一个社区内",
        "{ok} of {n} grids lie in one community",
    ),
    "rule_fig_buildings": ("{cut}/{n} 栋楼被切分", "{cut} of {n} buildings cut"),
    "rule_fig_no_compounds": ("没有小区", "no compounds"),
    "rule_fig_compounds": (
        "{cut}/{n} 个小区被切分；{big} 个超过 {hi} 户的小区按楼栋拆分",
        "{cut} of {n} compounds cut; {big} above {hi} households split between buildings",
    ),
    "rule_fig_households": ("{ok}/{n} 个网格在范围内", "{ok} of {n} grids in range"),
    "rule_fig_codes": (
        "{ok}/{n} 个编码唯一且为 {width} 位",
        "{ok} of {n} codes unique with {width} digits",
    ),
    "rule_v_uncovered": ("{area:,.0f} m² 未被任何网格覆盖", "{area:,.0f} m² uncovered by any grid"),
    "rule_v_outside": (
        "{area:,.0f} m² 在街道边界之外",
        "{area:,.0f} m² outside the street boundary",
    ),
    "rule_v_coverage_slivers": (
        "{area:,.1f} m² 的差异，由每块不足 1 m² 的碎片组成",
        "{area:,.1f} m² of difference in pieces under 1 m² each",
    ),
    "rule_v_overlap_slivers": (
        "{total:,.2f} m² 的重叠，分布在 {n} 块各不足 {limit:g} m² 的碎片中",
        "{total:,.2f} m² of overlap in {n} slivers under {limit:g} m² each",
    ),
    "rule_v_overlap": (
        "网格 {a} 和 {b} 重叠 {area:,.0f} m²",
        "grids {a} and {b} overlap by {area:,.0f} m²",
    ),
    "rule_v_no_geometry": ("网格 {grid} 没有几何图形", "grid {grid} has no geometry"),
    "rule_v_pieces": (
        "网格 {grid} 分成 {n} 块（最小 {area:,.0f} m²）",
        "grid {grid} is in {n} pieces (smallest {area:,.0f} m²)",
    ),
    "rule_v_no_area": ("网格 {grid} 面积为零", "grid {grid} has no area"),
    "rule_v_repaired": (
        "网格 {grid} 需要修复（{reason}；已删去不足 {limit:g} m² 的碎片）",
        "grid {grid} needed a repair ({reason}; fragments under {limit:g} m² dropped)",
    ),
    "rule_v_names_no_community": ("网格 {grid} 未注明社区", "grid {grid} names no community"),
    "rule_v_community_area": ("{community}（{area:,.0f} m²）", "{community} ({area:,.0f} m²)"),
    "rule_v_communities": (
        "网格 {grid} 跨 {n} 个社区：{communities}",
        "grid {grid} lies in {n} communities: {communities}",
    ),
    "rule_v_wrong_community": (
        "网格 {grid} 标注为社区 {named}，但位于社区 {actual}",
        "grid {grid} is labelled community {named} but lies in {actual}",
    ),
    "rule_v_building_cut": (
        "楼栋 {building} 被网格 {grids} 切分（第二个网格内 {area:,.1f} m²）",
        "building {building} is cut by grids {grids} ({area:,.1f} m² in the second)",
    ),
    "rule_v_compound_cut": (
        "小区 {compound}（{households} 户）被网格 {grids} 切分",
        "compound {compound} ({households} households) is cut by grids {grids}",
    ),
    "rule_v_compound_cut_boundary": (
        "小区 {compound}（{households} 户）被网格 {grids} 沿社区边界切分（社区 {communities}）",
        "compound {compound} ({households} households) is cut by grids {grids} along the "
        "community boundary (communities {communities})",
    ),
    "rule_v_below": (
        "网格 {grid}：{households} 户，低于下限",
        "grid {grid}: {households} households, below the minimum",
    ),
    "rule_v_above": (
        "网格 {grid}：{households} 户，超过上限",
        "grid {grid}: {households} households, above the maximum",
    ),
    "rule_v_with_reason": ("{text}（{why}）", "{text} ({why})"),
    "rule_why_building": (
        "楼栋 {building} 一栋就有 {households} 户",
        "building {building} alone holds {households} households",
    ),
    "rule_why_community": (
        "社区 {community} 只有 {households} 户",
        "community {community} holds only {households} households",
    ),
    "rule_v_code_format": (
        "网格 {grid}：编码 {code!r} 不是 {width} 位数字",
        "grid {grid}: code {code!r} is not {width} digits",
    ),
    "rule_v_code_duplicate": (
        "编码 {code} 被多个网格使用",
        "code {code} is used by more than one grid",
    ),
    "rule_report_head": (
        "网格规则检查：{grids} 个网格，{households:,} 户",
        "Proof of the grid rules: {grids} grids, {households:,} households",
    ),
    "rule_pass": ("通过", "PASS"),
    "rule_pass_explained": ("通过*", "PASS*"),
    "rule_fail": ("不通过", "FAIL"),
    "rule_line": ("  [{mark}] {title}：{figure}", "  [{mark:5}] {title}: {figure}"),
    "rule_violation_line": ("      - {text}{where}{tag}", "      - {text}{where}{tag}"),
    "rule_near": ("（位置 {lon:.5f}, {lat:.5f}）", " near {lon:.5f}, {lat:.5f}"),
    "rule_tag": ("（{severity}）", " ({severity})"),
    "rule_severity_warning": ("警告", "warning"),
    "rule_severity_explained": ("已说明", "explained"),
    "rule_more": ("      ……另有 {n} 条", "      ... and {n} more"),
    "rule_quality": (
        "质量：每个网格户数 最小/中位/最大 {hh_min:.0f}/{hh_median:.0f}/{hh_max:.0f}，"
        "变异系数 {cv:.3f}；紧凑度（Polsby-Popper）最小 {pp_min:.2f}，中位 {pp_median:.2f}；"
        "共 {grids} 个网格",
        "Quality: households per grid min/median/max {hh_min:.0f}/{hh_median:.0f}/"
        "{hh_max:.0f}, CV {cv:.3f}; compactness (Polsby-Popper) min {pp_min:.2f}, "
        "median {pp_median:.2f}; {grids} grids",
    ),
    "rule_explained_note": (
        "* 已说明：已证明无法避免的例外或设置中接受的例外，列出原因，不算不通过",
        "* explained: a proved exception or one accepted in the settings, listed with the "
        "reason; not a failure",
    ),
    "rule_result_ok": ("结论：所有规则均满足", "RESULT: all rules hold"),
    "rule_result_fail": ("结论：{n} 条规则不通过", "RESULT: {n} rule(s) FAIL"),
    # --- codes: re-division with the least disruption (planner.grids.keep) ---
    # why a previous grid was divided again, why an atom moved, and the report's lines;
    # the English is KeepResult.to_text() and the ``why`` columns of grid_moves.csv
    "keep_why_households": (
        "新数据下有 {households} 户，超出 {lo}-{hi} 户",
        "{households} households on the new data, outside {lo}-{hi}",
    ),
    "keep_why_households_was": (
        "新数据下有 {households} 户（原 {was} 户），超出 {lo}-{hi} 户",
        "{households} households on the new data (was {was}), outside {lo}-{hi}",
    ),
    "keep_why_communities": ("现跨越社区 {communities}", "now spans communities {communities}"),
    "keep_why_pieces": ("其范围现已分成不相连的几块", "its land is now in separate pieces"),
    "keep_why_compound": (
        "小区 {compound} 会被网格分割",
        "compound {compound} would be cut between grids",
    ),
    "keep_why_new_land": (
        "与原网格均未覆盖的土地相邻",
        "borders land no previous grid covered",
    ),
    "keep_why_unit": (
        "与重新划分的土地同属一个小区",
        "shares a compound with land divided again",
    ),
    "keep_why_neighbour": (
        "与社区 {community} 中无法调整到范围内的网格相邻",
        "next to grids of community {community} that could not be brought in range",
    ),
    "rule_v_dedicated_homes": (
        "专属网格 {grid}：有 {households} 户居民，住宅应属居住网格",
        "dedicated grid {grid}: holds {households} households; homes belong in residential grids",
    ),
    "keep_why_dedicated_homes": (
        "专属网格现有 {households} 户居民（新建住宅），须并入居住网格",
        "dedicated grid now holds {households} households (new homes): divided again",
    ),
    "keep_why_new_atom": ("新增土地，原先不属于任何网格", "new land, in no previous grid"),
    "keep_why_divided": ("所在网格被重新划分", "its grid was divided again"),
    "keep_title": ("沿用原网格：", "Kept from the previous grids:"),
    "keep_summary": (
        "  {kept} / {before} 户（{share:.1f}%）保留原网格和编码；{reopened} 个网格重新划分"
        "（{rounds} 轮）；{atoms} 个网格单元（{moved} 户）变动",
        "  {kept:,} of {before:,} households ({share:.1f}%) kept their grid and code; "
        "{reopened} grids divided again in {rounds} round(s); {atoms} atoms ({moved:,} "
        "households) moved",
    ),
    "keep_fate_kept": ("编码由重新划分后的网格沿用", "code kept by the re-divided grid"),
    "keep_fate_retired": ("编码停用，不再分配", "code retired"),
    "keep_line": ("  - {code}：{why}（{fate}）", "  - {code}: {why} ({fate})"),
    "keep_retired": ("  停用编码：{codes}", "  retired codes: {codes}"),
    # --- mapedit: map-first editing ---
    "ed_mode_compound": ("整个小区", "Whole compounds"),
    "ed_mode_help": (
        "打开后，点击或套索选中整个小区的全部网格单元；关闭时逐个选择网格单元。",
        "On: a click or lasso takes every atom of the compound; off: single atoms.",
    ),
    "ed_households": ("{n} 户", "{n} households"),
    "ed_esc_hint": ("也可按 Esc 键", "Or press Esc"),
    "ed_lasso_left_out": (
        "套索内有 {n} 个网格单元属于其他网格，未选中（一次只移动一个网格的单元）。",
        "{n} lassoed atoms are in other grids and were left out (a move takes atoms of one grid).",
    ),
    "ed_pick_target": (
        "移动到：点击地图上的相邻网格，或按下其编号",
        "Move to: click a neighbouring grid on the map, or press its label",
    ),
    "ed_confirm_move": ("确认移动到 {label}", "Move to {label}"),
    "ed_badges": ("确认前预览（受影响的网格）：", "Before you confirm (grids touched):"),
    "ed_badge_households": ("{before} → {n} 户", "{before} → {n} households"),
    "ed_badge_load": ("负荷 {load:.0f}", "load {load:.0f}"),
    "ed_badge_bounds": ("范围 {lo}–{hi} 户", "bounds {lo}–{hi}"),
    "ed_one_piece": ("连片", "contiguous"),
    "ed_pieces": ("分成 {n} 块", "{n} pieces"),
    "ed_badge_compactness": ("紧凑度 {c:.2f}", "compactness {c:.2f}"),
    "ed_would_refuse": ("此编辑将被拒绝：{reason}", "This edit would be refused: {reason}"),
    "ed_draw_line_first": (
        "拆分：先用地图左侧的画线工具画一条横穿网格的线，预览后再确认。",
        "Split: draw a line across the grid with the map's line tool, check the preview, "
        "then confirm.",
    ),
    "ed_split_preview": (
        "拆分预览：网格 {label} 沿所画的线分为两部分（地图上以蓝、橙虚线显示）。",
        "Split preview: grid {label} cut in two along the drawn line (blue and orange "
        "dashes on the map).",
    ),
    "ed_split_refused": (
        "无法沿所画的线拆分：{reason}。请重新画线。",
        "Cannot split along the drawn line: {reason}. Draw the line again.",
    ),
    "ed_confirm_split": ("确认拆分", "Confirm split"),
    "ed_draw_line": ("画线：沿线拆分网格", "Draw a line to split a grid"),
    "ed_draw_lasso": ("套索：圈选网格单元", "Lasso: select the atoms inside"),
    "ed_draw_cancel": ("取消", "Cancel"),
    "ed_draw_cancel_title": ("取消绘制", "Cancel drawing"),
    "ed_draw_finish": ("完成", "Finish"),
    "ed_draw_finish_title": ("完成绘制", "Finish drawing"),
    "ed_draw_undo": ("删除最后一点", "Delete last point"),
    "ed_draw_line_start": ("点击地图开始画线", "Click to start the line"),
    "ed_draw_line_cont": ("继续点击添加折点", "Click to continue the line"),
    "ed_draw_line_end": ("点击最后一点结束画线", "Click the last point to finish the line"),
    "ed_draw_lasso_start": ("点击地图开始圈选", "Click to start the lasso"),
    "ed_draw_lasso_cont": ("继续点击添加折点", "Click to continue the lasso"),
    "ed_draw_lasso_end": ("点击第一个点闭合", "Click the first point to close the lasso"),
    "ed_draw_cross": ("边线不能相交", "Edges cannot cross"),
    "ed_draw_remove": ("删除所画的线或套索", "Delete drawn lines or lassos"),
    "ed_draw_remove_none": ("没有可删除的图形", "Nothing drawn to delete"),
    "ed_draw_remove_tip": ("点击图形将其删除", "Click a drawing to delete it"),
    "ed_draw_save": ("保存", "Save"),
    "ed_draw_save_title": ("保存更改", "Save changes"),
    "ed_draw_edit_cancel_title": ("取消，放弃更改", "Cancel, discard changes"),
    "ed_draw_clear_all": ("全部清除", "Clear all"),
    "ed_draw_clear_all_title": ("清除所有图形", "Clear every drawing"),
    # --- org: organisation registers and rules ---
    "org_report_head": (
        "组织建设检查：{grids} 个网格",
        "Organisation rules: {grids} grids",
    ),
    "org_not_checked": ("  [未检查] 未提供{register}", "  [not checked] no {register} given"),
    "org_register_party": ("党组织台账", "party-organisation register"),
    "org_register_staff": ("网格员台账", "grid-staff register"),
    "org_register_property": ("物业台账", "property-management register"),
    "org_register_incidents": ("网格事件台账", "incident register"),
    "org_title_branch": (
        "每个网格建有网格党支部（或注明共建）",
        "every grid has a party branch or shares one (网格党支部)",
    ),
    "org_fig_branch": ("{n}/{grids} 个网格有党支部", "{n} of {grids} grids have a branch"),
    "org_v_branch": ("网格 {grid} 没有党支部", "grid {grid} has no party branch"),
    "org_title_groups": (
        "党员 {n} 人以上的楼栋建有楼栋党小组",
        "buildings with {n}+ party members have a party group (楼栋党小组)",
    ),
    "org_fig_groups": (
        "{groups} 个党小组，{missing} 栋楼缺党小组",
        "{groups} groups; {missing} buildings lack one",
    ),
    "org_v_groups": (
        "网格 {grid}：楼栋 {buildings} 党员 {n} 人以上但没有党小组",
        "grid {grid}: building(s) {buildings} have {n}+ party members but no party group",
    ),
    "org_title_team": (
        "网格队伍“1+1+n”（至少 1 名网格长、1 名专职网格员）",
        'every grid has a "1+1+n" team (a leader and a full-time worker)',
    ),
    "org_fig_team": ("{n}/{grids} 个网格队伍齐全", "{n} of {grids} grids have a full team"),
    "org_v_team": (
        "网格 {grid} 队伍不全：网格长 {leaders} 名，专职网格员 {full_time} 名",
        "grid {grid}'s team is incomplete: {leaders} leader(s), {full_time} full-time worker(s)",
    ),
    "org_title_workload": (
        "每名专职网格员服务不超过 {n} 户",
        "at most {n} households per full-time grid worker",
    ),
    "org_fig_workload": ("每名专职网格员最多 {max:.0f} 户", "at most {max:.0f} per worker"),
    "org_v_workload": (
        "网格 {grid}：每名专职网格员 {per:.0f} 户，超过 {n} 户",
        "grid {grid}: {per:.0f} households per full-time worker, above {n}",
    ),
    "org_title_red": (
        "红色物业覆盖小区不低于 {pct:g}%（每个社区）",
        "red property covers at least {pct:g}% of compounds (each community)",
    ),
    "org_fig_red": (
        "{red}/{compounds} 个小区为红色物业（{pct:.1f}%）",
        "{red} of {compounds} compounds have red property ({pct:.1f}%)",
    ),
    "org_v_red": (
        "社区 {community}：红色物业占 {pct:.1f}%，低于 {target:g}%",
        "community {community}: red property {pct:.1f}%, below {target:g}%",
    ),
    "org_title_abandoned": ("无弃管小区", "no abandoned compounds (弃管小区)"),
    "org_fig_abandoned": ("{n} 个弃管或无物业小区", "{n} abandoned or unmanaged compounds"),
    "org_v_abandoned": (
        "网格 {grid}：弃管或无物业小区 {compounds}",
        "grid {grid}: abandoned or unmanaged compound(s) {compounds}",
    ),
    "page_organisation": ("组织建设", "Organisation"),
    "org_upload_title": (
        "上传台账（CSV UTF-8/GBK 或 Excel）",
        "Upload registers (CSV UTF-8/GBK or xlsx)",
    ),
    "org_upload_too_big": ("文件超过 {mb} MB", "the file is larger than {mb} MB"),
    "org_incidents_crs": ("事件经纬度坐标系", "Coordinates of the incidents"),
    "org_no_registers": (
        "请上传党组织、网格员、物业或事件台账（示例街道自带合成台账）",
        "Upload the party, staff, property or incident registers (the demo street has synthetic ones)",
    ),
    "org_checking": ("正在检查组织建设……", "Checking the organisation…"),
    "org_tab_overview": ("概览", "Overview"),
    "org_tab_map": ("地图", "Map"),
    "org_tab_tables": ("网格与社区表", "Grid and community tables"),
    "org_tab_edit": ("编辑支部与队伍", "Edit branch and team"),
    "org_fig_grids_branch": ("有党支部的网格（共 {grids} 个）", "Grids with a branch (of {grids})"),
    "org_fig_grids_team": (
        "队伍齐全的网格（共 {grids} 个）",
        "Grids with a full team (of {grids})",
    ),
    "org_fig_red_pct": ("红色物业小区占比", "Compounds with red property"),
    "org_fig_incidents_n": ("网格事件", "Grid incidents"),
    "org_col_rule": ("规则", "Rule"),
    "org_col_result": ("结果", "Result"),
    "org_col_figure": ("数字", "Figure"),
    "org_unmatched": ("{register}有 {n} 行未匹配：", "{register}: {n} rows match nothing:"),
    "org_colour_by": ("网格着色", "Colour grids by"),
    "org_edit_grid": ("网格", "Grid"),
    "org_edit_branch": ("网格党支部名称（留空表示未建立）", "Party branch (empty: none)"),
    "org_edit_save": ("保存", "Save"),
    "org_edit_saved": ("已保存到 {path}（含修改记录）", "Saved to {path} (with the history)"),
    "org_read_only": (
        "只读：这是共享链接打开的项目，复制为我的项目后才能修改",
        "Read-only: a project opened from a link; make your copy to edit",
    ),
    "org_title_incidents": ("网格事件（数字，不是规则）", "grid incidents (a figure, not a rule)"),
    "org_fig_incidents": (
        "{days} 天内 {n} 件，每年每百户 {rate:.2f} 件",
        "{n} in {days} days, {rate:.2f} per 100 households per year",
    ),
    # --- workbench: the project on every page, work kept, per-page errors ---
    "project_status_none": (
        "项目：尚无编辑（网格为自动划分）",
        "Project: no edits yet (grids as divided)",
    ),
    "project_status": (
        "项目：已编辑 {n} 次，最近一次：{what}（{time}）",
        "Project: {n} edit(s), last: {what} ({time})",
    ),
    "status_read_only": (
        "（只读：此项目在别的浏览器中创建，复制一份即可编辑）",
        "(read-only: made in another browser; make a copy to edit)",
    ),
    "changed_elsewhere": (
        "此项目已在别处（另一个标签页）更改：请重新加载页面，或复制一份后继续编辑",
        "This project was changed elsewhere (another tab): reload the page or make a copy",
    ),
    "scenario_name_taken": (
        "已有名为“{name}”的方案：换一个名称，或勾选“替换同名方案”",
        'A scenario named "{name}" exists: pick another name or tick "replace"',
    ),
    "scenario_replace": ("替换同名方案", "Replace the scenario of that name"),
    "scenario_saved": ("已保存方案“{name}”", 'Scenario "{name}" saved'),
    "page_failed": (
        "此页面无法显示：{why}。其他页面仍可使用。",
        "This page cannot be shown: {why}. The other pages still work.",
    ),
    "missing_layers": (
        "此街道缺少：{missing}。{can}",
        "This street has no {missing}. {can}",
    ),
    "missing_buildings": (
        "楼栋（无法计算户数、覆盖和网格）",
        "buildings (no households, coverage or grids)",
    ),
    "missing_roads": ("道路（无法计算步行服务圈）", "roads (no walking service circles)"),
    "missing_stations": ("服务站（无法计算步行服务圈）", "stations (no walking service circles)"),
    "rule_v_code_parts": (
        "网格 {grid}：编码 {code} 的区县或街道部分不是本街道的（应为区县 {county}、街道 {street}）",
        "grid {grid}: code {code} does not carry the street's county {county} and street {street}",
    ),
    "rule_v_short_duplicate": (
        "短编号 {label} 被多个网格使用：{codes}",
        "short label {label} is used by more than one grid: {codes}",
    ),
    "scenario_k": ("新增 {k} 处", "{k} new sites"),
    "scenario_target": ("目标覆盖 {share:.1f}%", "target {share:.1f}% covered"),
    "can_show_redmap": ("地图仍显示已有的图层。", "The map still shows the layers it has."),
    "can_show_overview": (
        "概览仍显示已有的数字和表格。",
        "The overview still shows the figures and tables it has.",
    ),
    "can_show_editor": (
        "没有楼栋就无法划分和编辑网格。",
        "Without buildings there are no grids to divide or edit.",
    ),
    "can_show_siting": (
        "选址需要楼栋、道路和服务站。",
        "Siting needs buildings, roads and stations.",
    ),
    "can_show_export": (
        "导出仍包含已有的图层和表格。",
        "The export still holds the layers and tables there are.",
    ),
    "can_show_facilities": (
        "设施页需要楼栋、道路和服务站，才能计算完整度和面积指标。",
        "The facilities page needs buildings, roads and stations for completeness and floor area.",
    ),
    "can_show_organisation": (
        "组织页需要网格（即需要楼栋）；登记表仍可读入。",
        "The organisation page needs grids (so buildings); registers can still be read.",
    ),
    "norm_title": (
        "服务站面积标准：每百户 {norm:g} m²（社区不少于 {minimum:,.0f} m²）",
        "Station floor-area norm: {norm:g} m² per 100 households (a community at least "
        "{minimum:,.0f} m²)",
    ),
    "norm_by_community": ("按社区", "By community"),
    "norm_by_station": ("按服务站", "By station"),
    "norm_station": ("服务站", "Station"),
    "norm_served": ("服务户数", "Households served"),
    "norm_area": ("现有面积 m²", "Floor area (m²)"),
    "norm_needed": ("标准应有 m²", "Norm asks (m²)"),
    "norm_per100": ("每百户面积 m²", "m² per 100 households"),
    "norm_status": ("是否达标", "Meets the norm"),
    "norm_met": ("达标", "yes"),
    "norm_short": ("未达标", "no"),
    "norm_unknown": ("面积未知", "area unknown"),
    "siting_result": (
        "新增 {n} 处服务站：{minutes:g} 分钟覆盖率由 {before:.1f}% 提高到 {after:.1f}%",
        "{n} new station(s): {minutes:g}-minute coverage from {before:.1f}% to {after:.1f}%",
    ),
    "siting_not_reached_with": (
        "目标覆盖率无法达到：{what}",
        "The target share cannot be reached: {what}",
    ),
    "siting_result_short": ("新增 {n} 处服务站", "{n} new station(s)"),
    "report_street": ("街道：{name}（计算坐标系 {crs}）", "Street: {name} (CRS {crs})"),
    "report_area": ("面积：{area:.2f} km²；图层要素数：", "Area: {area:.2f} km²; features:"),
    "report_households": (
        "户数：{total:,}（其中按建筑面积估算 {est:,}），居民：{residents:,.0f}",
        "Households: {total:,} ({est:,} estimated from floor area), residents: {residents:,.0f}",
    ),
    "report_stations": (
        "服务站：街道内 {inside} 个，周边 {margin} 个",
        "Stations: {inside} in the street, {margin} in the margin",
    ),
    "report_network": ("步行路网：{km:.1f} km", "Walking network: {km:.1f} km"),
    "report_register": (
        "户籍登记表：匹配 {matched} 行，未匹配 {unmatched} 行，{missing} 栋住宅楼不在表中",
        "Household register: {matched} rows matched, {unmatched} unmatched, "
        "{missing} residential buildings not in it",
    ),
    "uploader_button": ("选择文件", "Choose files"),
    "uploader_limit": ("每个文件不超过 {limit} MB", "At most {limit} MB per file"),
    "recent_projects": ("我的项目", "My projects"),
    "project_name": ("项目名称", "Project name"),
    "project_unnamed": ("未命名项目 {project}", "Unnamed project {project}"),
    "project_saved_at": ("{name}（{saved} UTC）", "{name} ({saved} UTC)"),
    "open_recent": ("打开", "Open"),
    "step_missing": ("街道缺少{missing}", "the street has no {missing}"),
    # --- services: the completeness layer of the red map (issue 16) ---
    "layer_completeness": (
        "服务完整度（缺少的服务类型：绿 0、黄 1–2、橙 3–6、红 7 类以上）",
        "Service completeness (kinds missing: green 0, yellow 1-2, orange 3-6, red 7+)",
    ),
    "missing_kinds": ("缺少的服务类型数", "Service kinds missing"),
    "missing_list": ("缺少", "Missing"),
    "m2_per_100_households": ("每百户可达面积（m²）", "m² per 100 households in reach"),
    "col_households_catchment": ("步行范围内户数", "Households within reach"),
    "page_facilities": ("设施配置", "Facilities"),
    "fac_title": ("服务圈完整度与设施面积", "Service circles: complete and big enough?"),
    "fac_no_coverage": ("尚无覆盖计算结果", "No coverage computed yet"),
    "fac_community": ("社区", "Community"),
    "fac_below_norm": ("低于每百户 30 m²", "Below 30 m² per 100 households"),
    "fac_households_below_norm": ("低于标准的户数", "Households below the norm"),
    "fac_station_area": ("站点面积 m²", "Station floor area (m²)"),
    "fac_norm": ("社区标准面积 m²", "Community norm (m²)"),
    "fac_catchment": ("15 分钟内户数", "Households within 15 minutes"),
    "fac_overloaded": ("超负荷站点", "Overloaded"),
    "fac_unknown_area": ("面积未知", "size unknown"),
    "fac_complete_all": ("全部服务可达", "Every kind in reach"),
    "fac_missing_most": ("最常缺少", "Most often missing"),
    "fac_per_community": ("各社区面积标准", "Floor-area norm per community"),
    "fac_per_station": ("各站点负荷（两步移动搜索法）", "Load per station (2SFCA)"),
    "fac_circles": (
        "各社区服务圈完整度（户数 %）",
        "Complete circles per community (% of households)",
    ),
    "fac_needs": ("一老一小", "Children and the elderly"),
    "fac_norm_note": (
        "标准：社区服务设施每百户 30 m²，每社区不少于 500 m²；面积按步行 15 分钟内的户数分摊",
        "Norm: 30 m² per 100 households, at least 500 m² per community; a station's floor "
        "area is shared among the households within a 15-minute walk",
    ),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "col_catchment_floor_area_m2": (
        "按范围内户数所需面积 m²",
        "Floor area for the households within reach (m²)",
    ),
    # --- bounds: proved exceptions, the exact method, accepted exceptions ---
    "grid_reason_whole_compound": (
        "小区 {compound} 有 {households} 户（超过 {hi} 户），设置不允许拆分（grid_split_large_compounds）",
        "compound {compound} holds {households} households (> {hi}) and the settings forbid "
        "splitting it (grid_split_large_compounds)",
    ),
    "grid_reason_exact_infeasible": (
        "已证明：社区 {community} 的这一块（{households} 户，{units} 个单元）无论怎样连片划分，"
        "都无法使每个网格在 {lo}-{hi} 户之间（精确方法）",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households, {units} units) keeps every grid within {lo}-{hi} (exact method)",
    ),
    "grid_reason_exact_infeasible_least": (
        "已证明：社区 {community} 的这一块（{households} 户，{units} 个单元）无论怎样连片划分，"
        "都无法使每个网格在 {lo}-{hi} 户之间；本划分超出界限的户数合计 {excess} 户，已证明为最少"
        "（精确方法）",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households, {units} units) keeps every grid within {lo}-{hi}; this division has "
        "{excess} households outside the bounds in all, proved the fewest possible (exact "
        "method)",
    ),
    "grid_reason_exact_no_solution": (
        "社区 {community}（{households} 户，{units} 个单元）：精确方法在工作量上限内既未找到 "
        "{lo}-{hi} 户的划分，也未证明其不存在",
        "community {community} ({households} households, {units} units): the exact method "
        "found no division within {lo}-{hi} and no proof that none exists within its work "
        "limits",
    ),
    "grid_reason_exact_too_large": (
        "社区 {community}（{households} 户）有 {units} 个单元，超过精确方法的上限 "
        "grid_exact_max_units，启发式未能使每个网格在 {lo}-{hi} 户之间",
        "community {community} ({households} households) has {units} units, more than the "
        "exact method takes (grid_exact_max_units); the heuristic left grids outside {lo}-{hi}",
    ),
    "rule_why_accepted": (
        "设置中已接受的例外 {item}；原因：{reason}",
        "accepted in the settings as {item} (grid_accepted_exceptions); reason: {reason}",
    ),
    "rule_why_unproved": (
        "{reason}；这不是无法避免的证明",
        "{reason}; this does not prove it unavoidable",
    ),
    "rule_title_load_in_range": (
        "工作量适度（每个网格的工作量在范围内）",
        "workload per grid in range (工作量适度)",
    ),
    "rule_title_with_load_range": ("{title} {lo:g}-{hi:g}", "{title} {lo:g}-{hi:g}"),
    "rule_v_load_below": (
        "网格 {grid}：工作量 {load}，低于下限",
        "grid {grid}: load {load}, below the minimum",
    ),
    "rule_v_load_above": (
        "网格 {grid}：工作量 {load}，超过上限",
        "grid {grid}: load {load}, above the maximum",
    ),
    "rule_why_building_load": (
        "楼栋 {building} 一栋的工作量就有 {load}",
        "building {building} alone has a load of {load}",
    ),
    "grid_reason_exact_no_time_left": (
        "社区 {community}（{households} 户，{units} 个单元）：精确方法的总时间（grid_exact_total_s）"
        "已用完，启发式未能使每个网格在 {lo}-{hi} 户之间",
        "community {community} ({households} households, {units} units): the exact method's "
        "time for the division (grid_exact_total_s) was spent; the heuristic left grids "
        "outside {lo}-{hi}",
    ),
    "grid_reason_exact_no_solver": (
        "社区 {community}（{households} 户，{units} 个单元）：未安装精确方法的求解器（highspy），"
        "启发式未能使每个网格在 {lo}-{hi} 户之间",
        "community {community} ({households} households, {units} units): the exact method's "
        "solver (highspy) is not installed; the heuristic left grids outside {lo}-{hi}",
    ),
    "grid_exact_no_solver": (
        "社区 {community}：{units} 个单元，未安装 highspy，精确方法未运行",
        "community {community}: {units} units; highspy is not installed, the exact method "
        "did not run",
    ),
    "grid_exact_no_time_left": (
        "社区 {community}：{units} 个单元，精确方法的总时间已用完，未运行",
        "community {community}: {units} units; the exact method's time for the division "
        "was spent, not run",
    ),
    "grid_exact_optimal": (
        "社区 {community}：精确方法（{units} 个单元，{households} 户）找到最优划分：每个网格都在界限内"
        "（超出界限 0 户，已是最少），均衡度也已证明最优，用时 {time_s:.1f} 秒",
        "community {community}: the exact method ({units} units, {households} households) "
        "found an optimal division: every grid within the bounds (0 households outside, "
        "the fewest possible) and the balance proved best, in {time_s:.1f} s",
    ),
    "grid_exact_feasible": (
        "社区 {community}：精确方法（{units} 个单元，{households} 户）找到每个网格都在界限内的划分"
        "（超出界限 0 户，已是最少）；均衡度与可证明的最优相差至多 {gap:.1f}%，用时 {time_s:.1f} 秒",
        "community {community}: the exact method ({units} units, {households} households) "
        "found a division with every grid within the bounds (0 households outside, the "
        "fewest possible); its balance is proved within {gap:.1f}% of the best "
        "({time_s:.1f} s)",
    ),
    "grid_exact_infeasible": (
        "社区 {community}：精确方法证明（{units} 个单元，{households} 户）不存在每个网格都在界限内的"
        "连片划分，用时 {time_s:.1f} 秒",
        "community {community}: the exact method proved ({units} units, {households} "
        "households) that no contiguous division keeps every grid within the bounds "
        "({time_s:.1f} s)",
    ),
    "grid_exact_no_solution": (
        "社区 {community}：精确方法（{units} 个单元，{households} 户）在工作量上限内没有结果，"
        "用时 {time_s:.1f} 秒",
        "community {community}: the exact method ({units} units, {households} households) "
        "reached its work limits with no result ({time_s:.1f} s)",
    ),
    "grid_exact_too_large": (
        "社区 {community}：{units} 个单元超过精确方法的上限（grid_exact_max_units），未运行",
        "community {community}: {units} units, more than the exact method takes "
        "(grid_exact_max_units); not run",
    ),
    # --- dedicated: dedicated grids and grid shape ---
    "col_grid_kind": ("网格类型", "Kind"),
    "col_land_use": ("用地", "Land use"),
    "col_feature_share": ("边界沿地物比例", "Boundary on features"),
    "grid_kind_residential": ("居住网格", "residential"),
    "grid_kind_dedicated": ("专属网格", "dedicated"),
    "grid_reason_dedicated": (
        "专属网格（{land_use}）：非居住用地，不受每格户数限制",
        "dedicated grid ({land_use}): not residential, exempt from the household bounds",
    ),
    "grid_shape_one_atom": (
        "紧凑度 {compactness} 低于 {minimum}：网格只有一个网格单元，形状由道路和边界决定",
        "compactness {compactness} below {minimum}: the grid is one atom, its shape is "
        "that of the roads and lines around it",
    ),
    "grid_shape_one_compound": (
        "紧凑度 {compactness} 低于 {minimum}：网格就是一个完整小区，形状由小区围墙决定",
        "compactness {compactness} below {minimum}: the grid is one whole compound, its "
        "shape is that of the compound's wall",
    ),
    "grid_shape_dedicated": (
        "紧凑度 {compactness} 低于 {minimum}：专属网格沿用地边界划定",
        "compactness {compactness} below {minimum}: a dedicated grid follows its land-use outline",
    ),
    "rule_title_compactness": (
        "形状紧凑（Polsby-Popper 紧凑度）",
        "compact shapes (Polsby-Popper)",
    ),
    "rule_fig_compactness": (
        "{ok}/{n} 个网格不低于 {minimum}；{forced} 个由网格单元决定；内部边界沿道路、围墙、"
        "水系或社区界线的比例 {share}",
        "{ok} of {n} grids at or above {minimum}; {forced} forced by their atoms; internal "
        "boundary on roads, walls, water or community lines {share}",
    ),
    "rule_v_compactness": (
        "网格 {grid}：紧凑度 {compactness}，低于 {minimum}",
        "grid {grid}: compactness {compactness}, below {minimum}",
    ),
    "rule_fig_households_dedicated": (
        "{ok}/{n} 个居住网格在范围内；{dedicated} 个专属网格不受户数限制",
        "{ok} of {n} residential grids in range; {dedicated} dedicated grids exempt",
    ),
    # --- grids: residential land never goes into a dedicated grid ---
    "edit_into_dedicated": (
        "不能将{what} 移入专属网格 {grid}（{land_use}）：网格单元 {atom} 是居住用地（有住户或属于小区），"
        "专属网格不含居住用地",
        "cannot move {what} into dedicated grid {grid} ({land_use}): atom {atom} is "
        "residential land (it holds households or lies in a compound), and a dedicated "
        "grid holds no residential land",
    ),
    "edit_merge_dedicated": (
        "不能合并专属网格 {dedicated}（{land_use}）与网格 {other}：网格 {other} 含居住用地，"
        "专属网格不含居住用地",
        "cannot merge dedicated grid {dedicated} ({land_use}) with grid {other}: grid "
        "{other} holds residential land, and a dedicated grid holds none",
    ),
    # --- city: issue 17, the city red map ---
    "city_map_title": ("{city}：各街道15分钟服务覆盖", "{city}: 15-minute coverage by street"),
    "city_layer_streets": (
        "街道（按{minutes:g}分钟覆盖率着色）",
        "Streets (shaded by {minutes:g}-minute coverage)",
    ),
    "city_layer_border_gaps": ("跨街道边界的服务盲区", "Gaps across a street border"),
    "city_street_popup": (
        "{name}（{code}）：{minutes:g}分钟覆盖 {pct} 的住户",
        "{name} ({code}): {pct} of households within {minutes:g} minutes",
    ),
    "city_open_street_map": ("打开本街道红色地图", "Open this street's red map"),
    "city_border_gap_popup": (
        "跨街道边界的服务盲区：{codes}（需两个街道办共同解决）",
        "Gap across a street border: {codes} (two street offices must act)",
    ),
    "city_no_data": ("无数据", "no data"),
    "city_legend_shade": (
        "街道：{minutes:g}分钟覆盖 {range}",
        "Street: {range} within {minutes:g} min",
    ),
    "city_legend_no_data": ("街道：无数据（未完成）", "Street: no data (not run)"),
    "city_map_note": (
        "共 {n} 个街道；覆盖率为住户在{minutes:g}分钟步行内的比例，红框为跨街道边界的服务盲区",
        "{n} streets; shares are households within a {minutes:g}-minute walk; red outlines: "
        "gaps across a street border",
    ),
    # --- appsplit: loader notes in the reader's language (planner.errors.Problem.render) ---
    "edit_redivided_kept": (
        "重新划分（保留 {locked} 个已锁定网格和仍在范围内的网格；原 {total:,} 户中 {kept:,} 户所在网格编码不变）",
        "re-divided keeping {locked} locked grid(s) and the grids still within bounds "
        "({kept:,} of {total:,} households keep their grid code)",
    ),
    "edit_redivided_lost": (
        "重新划分丢失了 {atoms} 个网格单元，未应用",
        "the re-division lost {atoms} atom(s); not applied",
    ),
    "note_code_county": ("区县代码", "code_county"),
    "note_code_street": ("街道代码", "code_street"),
    "note_codes_missing": (
        "数据源未给出{missing}：除非另行给出代码，网格编码将是临时的（000000 / 000，标记为临时编码）",
        "the source names no {missing}: grid codes will be provisional (000000 / 000, flagged "
        "code_provisional) unless the codes are given",
    ),
    "note_fix_codes": (
        "请在设置中给出区县代码（6 位，GB/T 2260）和街道代码（3 位）",
        "give --code-county (6 digits, GB/T 2260) and --code-street (3 digits), or "
        "code_county / code_street in street.json",
    ),
    "note_sheet_has_header": ("该表含表头", "it holds the table's header"),
    "note_sheet_no_header": ("没有哪个表写有所需的列名", "no sheet names the expected columns"),
    "note_sheets": (
        "工作簿有 {n} 个工作表；读取了“{sheet}”（{why}）；未读取：{others}",
        "the workbook has {n} sheets; read sheet '{sheet}' ({why}); not read: {others}",
    ),
    "note_fix_one_sheet": (
        "工作簿中只保留一个工作表，或把表格放在第一个工作表",
        "keep one sheet in the workbook, or put the table on its first sheet",
    ),
    "note_merged_cells": (
        "{n} 处跨行合并的单元格已在每一行填入其值：{ids}",
        "{n} cell range(s) merged over several rows were filled with their value in every "
        "row: {ids}",
    ),
    "note_fix_merged_cells": (
        "若每一行都属于合并的值（如一个小区名覆盖其各楼栋），无需处理；否则请取消合并",
        "nothing to do if each row belongs to the merged value (e.g. one compound name over "
        "its buildings); otherwise unmerge the cells",
    ),
    "note_row": ("第 {row} 行", "row {row}"),
    "note_where_row": ("第 {row} 行", "row {row}"),
    "note_total_rows": ("跳过了 {n} 个合计行：{rows}", "{n} total row(s) skipped: {rows}"),
    "note_fix_totals": (
        "无需处理：合计由各行重新计算",
        "nothing to do: totals are recomputed from the rows",
    ),
    "note_register_unmatched": (
        "登记表中的这一行对不上任何建筑：{reason}（{key}）",
        "register row matches no building: {reason} ({key})",
    ),
    "note_fix_register_ids": (
        "请更正编号或名称，使其与建筑或小区图层一致",
        "correct the id/name so it matches the buildings or compounds layer",
    ),
    "note_reason_compound_not_found": ("找不到该小区", "compound not found"),
    "note_reason_no_building": ("没有这栋楼", "no such building"),
    "note_reason_same_name": (
        "{n} 栋楼同名；请补充小区名称或楼栋编号",
        "{n} buildings have this name; add 小区名称 or 楼栋编号",
    ),
    "note_reason_no_compound": ("没有这个小区", "no such compound"),
    "note_reason_nothing_named": ("未写楼栋或小区", "no building or compound named"),
    "note_reason_no_residential": (
        "该小区没有尚未单独登记的住宅楼",
        "the compound has no residential building without its own row",
    ),
    "note_fate_layer": (
        "它们沿用建筑图层中的户数",
        "they keep the households from the buildings layer",
    ),
    "note_fate_estimated": (
        "它们的户数按建筑面积估算",
        "their households are estimated from floor area",
    ),
    "note_fate_mixed": (
        "{kept} 栋沿用建筑图层中的户数，{estimated} 栋按建筑面积估算户数",
        "{kept} keep the households from the buildings layer, {estimated} have their "
        "households estimated from floor area",
    ),
    "note_not_in_register": (
        "{n} 栋住宅楼不在登记表中；{fate}：{ids}",
        "{n} residential building(s) are not in the register; {fate}: {ids}",
    ),
    "note_fix_register_rows": (
        "请在登记表中为这些楼栋或其小区补充行",
        "add rows for these buildings or their compounds to the register",
    ),
    "note_cad_missing": (
        "图纸中没有 CAD 图层 {missing}；图纸的图层：{present}",
        "CAD layer(s) {missing} are not in the drawing; its layers: {present}",
    ),
    "note_fix_cad_names": (
        "请检查 CAD 图层对照中的名称（须与 CAD 图层名一致）",
        "check the names in --dxf-layers (they must match the CAD layer names)",
    ),
    "note_cad_kind_Polygon": ("多边形", "polygons"),
    "note_cad_kind_LineString": ("线", "linestrings"),
    "note_cad_kind_Point": ("点", "points"),
    "note_cad_wrong_kind": (
        "CAD 图层 {names} 上有 {n} 个实体不是{kind}（如未闭合的多段线或文字），未计入图层 {layer}",
        "{n} entities on CAD layer(s) {names} are not {kind} (e.g. open polylines or texts) "
        "and are left out of {layer}",
    ),
    "note_fix_cad_closed": ("请把图层 {layer} 画成闭合多段线", "draw {layer} as closed polylines"),
    "note_fix_cad_layer": (
        "请检查哪个 CAD 图层存放 {layer}",
        "check which CAD layer holds {layer}",
    ),
    "note_cad_text_outside": (
        "CAD 图层 {names} 上有 {n} 个 {field} 文字不在任何要素内，未使用",
        "{n} {field} text(s) on CAD layer(s) {names} lie in no feature and are not used",
    ),
    "note_cad_text_several": (
        "{n} 个要素含 CAD 图层 {names} 的多个 {field} 文字；使用第一个",
        "{n} feature(s) hold several {field} texts of CAD layer(s) {names}; the first is used",
    ),
    "note_fix_cad_text": ("每个轮廓内只放一个文字", "place one text inside each outline"),
    "note_where_file": ("文件 {file}", "file {file}"),
    "col_geometry": ("几何形状", "geometry"),
    "note_where_feature": ("要素 {feature}", "feature {feature}"),
    "note_where_field": ("字段“{field}”", "field '{field}'"),
    "note_fix": ("处理办法：{fix}", " Fix: {fix}"),
    "note_ids": ("{ids}", "{ids}"),
    "note_ids_more": ("{ids} 等（另有 {more} 个）", "{ids} ... and {more} more"),
    "note_layer_boundary": ("边界", "boundary"),
    "note_layer_communities": ("社区", "communities"),
    "note_layer_compounds": ("小区", "compounds"),
    "note_layer_buildings": ("楼栋", "buildings"),
    "note_layer_gates": ("出入口", "gates"),
    "note_layer_roads": ("道路", "roads"),
    "note_layer_barriers": ("河流铁路", "barriers"),
    "note_layer_landuse": ("用地", "landuse"),
    "note_layer_stations": ("站点", "stations"),
    "note_layer_pois": ("兴趣点", "pois"),
    "note_with_ids": ("{text}：{ids}", "{text}: {ids}"),
    "note_invalid_polygons": (
        "{n} 个无效多边形（自相交或环不规范）已自动修复：{ids}",
        "{n} invalid polygon(s) (self-intersecting or badly formed rings) were repaired "
        "with make_valid: {ids}",
    ),
    "note_fix_check_repaired": (
        "在地图上检查修复后的形状；如有不对，请在 GIS 中修改",
        "check the repaired shapes on the map; fix them in your GIS if they look wrong",
    ),
    "note_zero_area": (
        "{n} 个多边形面积为零，已略去：{ids}",
        "{n} polygon(s) have no area and were left out: {ids}",
    ),
    "note_fix_redraw_polygons": (
        "请把这些要素重新画成正确的多边形，或删除它们",
        "draw these features again as proper polygons, or delete them",
    ),
    "note_control_chars": (
        "“{column}”字段有 {n} 个值含控制字符（空字符、转义、制表、换行或方向控制符），已删除：{ids}",
        "{n} {column} value(s) held control characters (NUL, escape, tab, line breaks or "
        "direction overrides), removed: {ids}",
    ),
    "note_fix_plain_text": (
        "请检查这些文字，写成不含控制字符的纯文本",
        "check these texts; write plain text without control characters",
    ),
    "note_too_long": (
        "“{column}”字段有 {n} 个值超过 {limit} 个字符（最长 {longest:,} 个），已截为 {limit} 个：{ids}",
        "{n} {column} value(s) were longer than {limit} characters (the longest {longest:,}) "
        "and were cut to {limit}: {ids}",
    ),
    "note_fix_shorten": (
        "请把这些文字缩短到 {limit} 个字符以内",
        "shorten these texts to {limit} characters",
    ),
    "note_outside": (
        "{n} 个{what}位于街道外 {margin:,.0f} 米以上，已略去",
        "{n} {what} lie more than {margin:,.0f} m outside the street and were left out",
    ),
    "note_fix_check_coordinates": (
        "请检查它们的坐标（来自国内网络地图的点需选择坐标系 GCJ-02 或 BD-09），或删除它们",
        "check their coordinates (and --points-crs for points from Chinese web maps), "
        "or remove them",
    ),
    "note_unknown_kinds": (
        "{n} 个服务站的类型不在目录中（{shown}）；按“其他”类型保留，原文记在类型说明中",
        "{n} station(s) have a kind outside the catalogue ({shown}); kept as kind 'other' "
        "with their text in kind_text",
    ),
    "note_fix_station_kinds": (
        "在服务站类型对照表中把这些文字对应到目录类型；若它们承担党群服务站的职能，也可把“其他”计入服务类型",
        "map these texts to catalogue kinds in a station-kinds file (--station-kinds-file, "
        "or station_kinds_file in street.json), or add 'other' to service_kinds if they "
        "serve as party-mass service stations",
    ),
    "note_communities_gap": (
        "社区未覆盖街道的 {share:.1%}",
        "the communities leave {share:.1%} of the street uncovered",
    ),
    "note_fix_communities_tile": (
        "社区应铺满街道：请把社区范围延伸到街道边界",
        "communities should tile the street: extend them to the boundary",
    ),
    "note_communities_overlap": (
        "社区之间重叠，占街道面积的 {share:.1%}；建筑归入覆盖其大部分的社区",
        "the communities overlap on {share:.1%} of the street's area; buildings go to the "
        "community covering most of them",
    ),
    "note_fix_communities_overlap": (
        "社区之间不应重叠：请修正共用边界",
        "communities should not overlap: fix the shared borders",
    ),
    "note_compounds_outside": (
        "{n} 个小区大部分位于街道外，已略去",
        "{n} compound(s) lie mostly outside the street and were left out",
    ),
    "note_fix_compounds_outside": (
        "请检查街道边界，或删除属于相邻街道的小区",
        "check the street boundary, or remove compounds that belong to a neighbour",
    ),
    "note_no_buildings": (
        "街道没有建筑，因此没有户数：网格无法按户数均衡，覆盖率和选址也无人可计",
        "the street has no buildings, so it has no households: grids cannot be balanced, "
        "and coverage shares and siting have nobody to count",
    ),
    "note_fix_add_buildings": (
        "请添加建筑图层（buildings.geojson、.gpkg 或 .shp，或含建筑的 OpenStreetMap 数据），或与建筑关联的住户登记表",
        "add the buildings layer (buildings.geojson, .gpkg or .shp, or an OSM extract with "
        "buildings), or a household register joined to buildings",
    ),
    "note_buildings_outside": (
        "{n} 栋建筑位于街道边界外，已略去",
        "{n} building(s) lie outside the street boundary and were left out",
    ),
    "note_fix_buildings_outside": (
        "若它们属于本街道，请检查街道边界",
        "check the street boundary if they belong to the street",
    ),
    "note_unknown_compound": (
        "{n} 栋建筑所填的小区编号不在小区图层中（例如 {example}）；已按位置归入小区",
        "{n} building(s) name a compound_id not in the compounds layer (e.g. {example}); "
        "placed by location instead",
    ),
    "note_fix_compound_ids": (
        "请使用小区图层中的编号，或留空",
        "use ids from the compounds layer, or leave compound_id empty",
    ),
    "note_dense_building": (
        "{building}（{households:,.0f} 户，建筑面积 {area:,.0f} m²）",
        "{building} ({households:,.0f} households on {area:,.0f} m²)",
    ),
    "note_dense": (
        "{n} 栋建筑每户建筑面积（占地 × 层数）不足 {per:g} m²，不合常理：{listed}",
        "{n} building(s) have less than {per:g} m² of floor area (footprint × floors) per "
        "household, which is implausible: {listed}",
    ),
    "note_fix_check_households": (
        "请检查这些建筑的户数、层数和占地",
        "check the households, floors and footprint of these buildings",
    ),
    "note_big_estimate": (
        "{n} 栋建筑按占地 × 层数估算每栋超过 {limit:,} 户，不合常理",
        "{n} building(s) were estimated at more than {limit:,} households each from "
        "footprint × floors, which is implausible",
    ),
    "note_fix_big_estimate": (
        "请检查它们的占地和层数（是否把整个地块画成了一栋建筑？），或直接填写户数",
        "check their footprint and floors (a site or block drawn as one building?), or give "
        "their households",
    ),
    "note_street_name": (
        "街道名称含控制字符或超过 {limit} 个字符；改用 {name}",
        "the street name held control characters or more than {limit} characters; it is "
        "used as {name}",
    ),
    "note_fix_street_name": (
        "请给街道起一个简短的纯文本名称（在街道设置或边界的名称中）",
        "give the street a plain, short name (street.json or the boundary's name)",
    ),
    "note_boundary_repaired": (
        "街道边界多边形无效，已自动修复",
        "the boundary polygon was invalid and was repaired with make_valid",
    ),
    "note_fix_check_boundary": ("请在地图上检查边界", "check the boundary on the map"),
    "note_unknown_layer": ("未知图层 {layer}，已忽略", "unknown layer {layer} ignored"),
    "note_fix_layer_names": (
        "图层文件应命名为边界、社区、小区、建筑、道路、服务站、出入口、障碍、用地或兴趣点的英文名"
        "（boundary、communities、compounds、buildings、roads、stations、gates、barriers、landuse、pois）",
        "name layer files boundary, communities, compounds, buildings, roads, stations, "
        "gates, barriers, landuse or pois",
    ),
    "note_register_no_buildings": (
        "给了住户登记表，但街道没有可关联的建筑",
        "a household register was given but the street has no buildings to join it to",
    ),
    "note_fix_register_buildings": (
        "请添加建筑图层（或载入含建筑的 OpenStreetMap 数据）",
        "add a buildings layer (or load an OpenStreetMap extract with buildings)",
    ),
    "note_no_roads": (
        "没有道路：步行网络为空，无法计算步行时间和服务圈",
        "no roads given: the walking network is empty, so walking times and service circles "
        "cannot be computed",
    ),
    "note_fix_add_roads": (
        "请在文件夹中添加 roads.geojson，或载入 OpenStreetMap 数据",
        "add roads.geojson to the folder, or load an OpenStreetMap extract",
    ),
    "note_buildings_far": (
        "{n} 栋建筑距任何可步行路段都超过 {snap:,.0f} 米",
        "{n} building(s) lie more than {snap:,.0f} m from any walkable link",
    ),
    "note_fix_paths_to_buildings": (
        "请在道路图层中补上通往这些建筑的道路",
        "add the paths that reach these buildings to the roads layer",
    ),
    "note_piece": (
        "第 {piece} 块：{nodes} 个节点、{buildings} 栋建筑、{households} 户",
        "piece {piece}: {nodes} nodes, {buildings} buildings, {households} households",
    ),
    "note_pieces": (
        "步行网络断成 {n} 块，其中 {near} 块是建筑最近的路网（{detail}）",
        "the walking network has {n} disconnected pieces, {near} of them nearest to "
        "buildings ({detail})",
    ),
    "note_fix_connect_pieces": (
        "请连通这些路网（补上缺失的路段、出入口或桥），或检查道路端点是否准确相接",
        "connect the pieces (a missing road link, gate or bridge), or check that road ends "
        "meet exactly",
    ),
    "note_several_layers": (
        "{file} 含 {n} 个图层（{described}）；读取了图层“{layer}”",
        "{file} holds {n} layers ({described}); read the layer '{layer}'",
    ),
    "note_fix_one_layer": (
        "文件中只保留图层 {layer} 即可消除此提示",
        "keep only the {layer} layer in the file to silence this note",
    ),
    "note_cpg_utf8": (
        "该 Shapefile 没有注明文字编码的 .cpg 文件；文字按 {said} 读取",
        "the Shapefile has no .cpg file naming its text encoding; its text is read as {said}",
    ),
    "note_cpg_other": (
        "该 Shapefile 没有注明文字编码的 .cpg 文件；文字不是 UTF-8，已按 {said} 读取",
        "the Shapefile has no .cpg file naming its text encoding; its text is not UTF-8, so "
        "it was read as {said}",
    ),
    "note_fix_cpg_check": (
        "请在加载报告中检查名称；在 .shp 旁放一个注明编码（如 GBK 或 UTF-8）的 .cpg 文件",
        "check the names in the load report; put a .cpg file holding the encoding (e.g. GBK "
        "or UTF-8) next to the .shp",
    ),
    "note_cpg_latin1": (
        "该 Shapefile 没有 .cpg 文件，文字既不是 UTF-8 也不是 GBK；已按 ISO-8859-1 读取，名称可能是乱码",
        "the Shapefile has no .cpg file and its text is neither UTF-8 nor GBK; it was read as "
        "ISO-8859-1 and names may be garbled",
    ),
    "note_fix_cpg": (
        "请在 .shp 旁放一个注明编码的 .cpg 文件，或把图层另存为 GeoPackage",
        "put a .cpg file holding the encoding next to the .shp, or save the layer as GeoPackage",
    ),
    "note_no_crs": (
        "该文件没有声明坐标系：按 {crs} 读取",
        "the file declares no coordinate system of its own: read in {crs} (--crs)",
    ),
    "note_fix_check_place": (
        "请在地图上检查该图层的位置是否正确",
        "check on the map that the layer sits where it should",
    ),
    "note_no_geometry": (
        "{n} 个要素没有几何形状，已略去：{ids}",
        "{n} feature(s) have no geometry and were left out: {ids}",
    ),
    "note_fix_draw_or_delete": (
        "请绘制这些要素，或删除它们",
        "draw these features, or delete them",
    ),
    "note_rings_closed": (
        "{n} 个多边形环未闭合，已用首点闭合",
        "{n} polygon ring(s) were not closed and were closed by repeating their first point",
    ),
    "note_fix_check_shapes": ("请在地图上检查这些形状", "check these shapes on the map"),
    "note_several_files": (
        "图层 {layer} 有多个文件（{files}）；使用 {used}",
        "several files for the {layer} layer ({files}); using {used}",
    ),
    "note_fix_one_file": ("每个图层只保留一个文件", "keep one file per layer"),
    "note_unread_file": (
        "{file} 未读取：文件夹中的图层应为 .geojson、.json、.gpkg、.shp（点也可用 .csv），因此缺少图层 {layer}",
        "{file} is not read: folders hold layers as .geojson, .json, .gpkg, .shp (or .csv for "
        "points), so the {layer} layer is missing",
    ),
    "note_fix_save_as": (
        "请另存为 {layer}.geojson 或 {layer}.gpkg（QGIS：导出 > 要素另存为）",
        "save it as {layer}.geojson or {layer}.gpkg (QGIS: Export > Save Features As)",
    ),
    # --- svcapp: facilities what-if, saved scenarios, the printed completeness map ---
    "legend_missing_none": ("服务类型齐全", "Every service kind in reach"),
    "legend_missing_range": ("缺 {low}–{high} 类服务", "{low}-{high} kinds missing"),
    "legend_missing_over": ("缺 {low} 类以上服务", "{low}+ kinds missing"),
    "wi_title": (
        "假设分析：增减设施、关闭道路、小区开门",
        "What-if: add or remove facilities, close a path, open a gate",
    ),
    "wi_action": ("调整内容", "Change"),
    "wi_act_add_station": ("新增站点", "Add a station"),
    "wi_act_move_station": ("移动站点", "Move a station"),
    "wi_act_remove_station": ("撤销站点", "Remove a station"),
    "wi_act_add_poi": ("新增服务设施", "Add a facility (POI)"),
    "wi_act_remove_poi": ("撤销服务设施", "Remove a facility (POI)"),
    "wi_act_close_path": ("关闭道路", "Close a path"),
    "wi_act_open_gate": ("小区开门", "Open a gate"),
    "wi_lon": ("经度（WGS84）", "Longitude (WGS84)"),
    "wi_lat": ("纬度（WGS84）", "Latitude (WGS84)"),
    "wi_pick": (
        "在地图上点击取点（填入经纬度），或直接输入经纬度",
        "Click the map to pick the point (fills the coordinates), or type them",
    ),
    "wi_station": ("站点", "Station"),
    "wi_poi": ("服务设施", "Facility"),
    "wi_compound": ("小区", "Compound"),
    "wi_kind": ("类型", "Kind"),
    "wi_name": ("名称", "Name"),
    "wi_area": ("面积（m²，可不填）", "Floor area (m², optional)"),
    "wi_add": ("加入调整", "Add the change"),
    "wi_undo": ("撤回上一项", "Remove the last"),
    "wi_clear": ("清空", "Clear"),
    "wi_draft": ("本次调整", "Changes to try"),
    "wi_none": ("尚未加入调整", "No change yet"),
    "wi_run": ("计算前后对比", "Compare before and after"),
    "wi_before": ("现状", "Before"),
    "wi_after": ("调整后", "After"),
    "wi_gain_cov": ("新增覆盖户数", "Households gaining coverage"),
    "wi_lose_cov": ("失去覆盖户数", "Households losing coverage"),
    "wi_gain_kind": ("新增可达服务的户数", "Households gaining a service kind"),
    "wi_lose_kind": ("失去可达服务的户数", "Households losing a service kind"),
    "wi_areas": ("街道与各社区前后对比", "Before and after, street and communities"),
    "wi_households": ("得失服务的住户", "Households who gain or lose"),
    "wi_stations": ("站点负荷前后对比（两步移动搜索法）", "Station load before and after (2SFCA)"),
    "wi_gained": ("新增可达", "Kinds gained"),
    "wi_lost": ("不再可达", "Kinds lost"),
    "wi_coverage": ("覆盖变化", "Coverage"),
    "wi_gains": ("获得覆盖", "gains"),
    "wi_loses": ("失去覆盖", "loses"),
    "wi_building": ("建筑", "Building"),
    "wi_no_change": ("没有住户得失服务", "No household gains or loses anything"),
    "wi_base": ("设施调整 {n} 项", "{n} facility changes"),
    "wi_saved": ("已保存方案“{name}”（随项目保存）", 'Scenario "{name}" saved with the project'),
    "wi_compare": ("已存方案并列比较", "Saved scenarios side by side"),
    "wi_figure": ("指标", "Figure"),
    "wi_changes_n": ("调整项数", "Changes"),
    "wi_load": ("载入到本次调整", "Load into the changes"),
    "wi_delete": ("删除方案", "Delete the scenario"),
    "wi_bad": ("调整有误：", "The changes have a problem: "),
    "wi_street": ("全街道", "Whole street"),
    # --- orgfix: organisation in the project file, overview, uploaded registers ---
    "org_overview_title": ("组织建设", "Grid organisation"),
    "org_upload_in_use": ("使用中：{register}（{name}）", "In use: {register} ({name})"),
    "org_upload_forget": ("不再使用上传的台账", "Stop using the uploaded registers"),
    "org_col_row": ("行号", "Row"),
    "org_col_key": ("匹配依据", "Key"),
    "org_col_reason": ("未匹配原因", "Why it matches nothing"),
    # --- city: issue 17 item 7, the app's city page ---
    "page_city": ("全市街道", "City"),
    "can_show_city": (
        "全市街道页读取城市运行输出文件夹，不受当前街道缺少的图层影响",
        "the city page reads a city output folder; this street's missing layers do not "
        "matter to it",
    ),
    "city_page_title": ("全市各街道", "Every street of the city"),
    "city_dir": (
        "城市运行输出文件夹（`city` 命令 `--out` 指定的文件夹）",
        "City output folder (--out of the city command)",
    ),
    "city_dir_help": (
        "运行 `python -m planner city … --out 文件夹` 后，在此填写该文件夹的路径",
        "the folder a `python -m planner city … --out DIR` run wrote",
    ),
    "city_not_folder": (
        "{path} 不是城市运行输出文件夹：缺少 {missing}。请填写 city 命令 --out 指定的文件夹。",
        "{path} is not a city output folder: {missing} is missing. Give the folder the city "
        "command's --out wrote.",
    ),
    "city_streets_table": ("街道一览（{n} 个街道）", "Streets ({n})"),
    "city_failed_streets": ("未完成的街道：{codes}", "Streets that failed: {codes}"),
    "city_map": ("全市红色地图", "City red map"),
    "city_no_map": (
        "该文件夹没有 city_redmap.html（运行时未生成地图）",
        "the folder has no city_redmap.html (the run wrote no map)",
    ),
    "city_street_pick": ("打开街道", "Open a street"),
    "city_open": ("在各页面中打开该街道", "Open this street in the pages"),
    "city_opened": (
        "已打开街道 {code}：请在左侧选择红色地图、网格编辑等页面",
        "Street {code} is open: choose the red map, the grid editor or another page",
    ),
    "city_col_street_code": ("街道编码", "Street code"),
    "city_col_name": ("街道名称", "Street"),
    "city_col_status": ("状态", "Status"),
    "city_col_households": ("户数", "Households"),
    "city_col_households_within_15_min_pct": ("15分钟覆盖率（%）", "Within 15 min (%)"),
    "city_col_gaps": ("服务盲区数", "Gaps"),
    "city_col_grids": ("网格数", "Grids"),
    "city_col_rules_ok": ("网格规则通过", "Grid rules kept"),
    "city_col_stations_in_street": ("街道内站点", "Stations in street"),
    "city_col_communities_meeting_norm": ("达标社区数", "Communities meeting the norm"),
    "city_col_seconds": ("用时（秒）", "Seconds"),
    "city_col_peak_memory_mb": ("峰值内存（MB）", "Peak memory (MB)"),
    "city_col_error": ("错误", "Error"),
    # --- walk1516: the completeness layer on the export page's PNG/PDF (issue 16 item 8) ---
    "export_map_completeness": (
        "PNG/PDF 地图显示服务圈完整度（住宅按缺少的服务类型数着色）",
        "Show service completeness on the PNG/PDF map (homes coloured by the kinds they miss)",
    ),
    "export_map_completeness_help": (
        "与命令行 run --map-completeness 相同；默认不显示",
        "The same as the command line's run --map-completeness; off by default",
    ),
    # --- walk1516: siting for a chosen service kind in the app (issue 16 item 6) ---
    "siting_kind": ("选址对象", "Site for"),
    "siting_kind_party": ("党群服务站", "Party-mass stations"),
    "siting_kind_help": (
        "选择一类服务设施时，按该类设施所属服务圈的步行分钟选址（与命令行 site --service-kind 相同），"
        "表中列出每个新址步行范围内的户数及按每百户 30 m² 所需面积",
        "A service kind sites new facilities of that kind within its circle's minutes (as "
        "the command line's site --service-kind); the table gives each new site's "
        "households within reach and the floor area they need at 30 m² per 100 households",
    ),
    "siting_kind_note": (
        "选址对象：{kind}（{minutes:g} 分钟步行范围；现状为该类已有设施）",
        "Siting for: {kind} (within {minutes:g} minutes' walk; before: the kind's existing "
        "facilities)",
    ),
    # --- walk1516: staff phones hidden on the organisation page (issue 15 item 4) ---
    "org_show_phones": ("显示联系电话", "Show phone numbers"),
    "org_show_phones_help": (
        "联系电话默认隐藏，只有本项目的编辑者可以显示；隐藏时保存，原有成员的电话保持不变",
        "Phones are hidden by default and only the project's editor can show them; a team "
        "saved with phones hidden keeps each remaining member's phone",
    ),
    # --- i18n19: OSM notes, load errors and coverage notes in the reader's language ---
    "error_untranslated": ("无法读取数据：{detail}", "{detail}"),
    "error_problems_n": ("输入中有 {n} 个问题：", "{n} problems in the input:"),
    "err_file_not_found": ("找不到文件", "file not found"),
    "err_fix_check_path": ("请检查文件路径", "check the path"),
    "err_fix_check_osm_path": (
        "请检查 OpenStreetMap 数据文件的路径",
        "check the path of the OSM extract",
    ),
    "err_cannot_read": ("无法读取该文件：{detail}", "cannot read the file: {detail}"),
    "err_fix_valid_gis": (
        "请确认它是有效的 GeoJSON、GeoPackage 或 Shapefile 文件（可在 QGIS 中打开检查）",
        "check it is a valid GeoJSON, GeoPackage or Shapefile (open it in QGIS)",
    ),
    "err_no_crs": (
        "该图层没有坐标参考系（CRS）",
        "the layer has no coordinate reference system (CRS)",
    ),
    "err_fix_no_crs_shp": (
        "请把投影文件（.prj）放在 Shapefile 旁边（在 GIS 中连同坐标系重新导出），或另存为 "
        "GeoPackage/GeoJSON，或在设置中指明其坐标系（例如 EPSG:4547）",
        "put the .prj file next to the .shp (export it again from your GIS with its "
        "coordinate system), or save the layer as GeoPackage/GeoJSON, or name its coordinate "
        "system with --crs (e.g. --crs EPSG:4547)",
    ),
    "err_fix_no_crs_other": (
        "请连同坐标系保存该图层（GeoPackage）或保存为 WGS84 的 GeoJSON，或在设置中指明其坐标系（例如 EPSG:4547）",
        "save the layer with its coordinate system (GeoPackage) or as WGS84 GeoJSON, or name "
        "its coordinate system with --crs (e.g. --crs EPSG:4547)",
    ),
    "err_cannot_convert": (
        "无法从 {crs} 转换到 WGS84：{detail}",
        "cannot convert from {crs} to WGS84: {detail}",
    ),
    "err_fix_convert": (
        "请以 WGS84 或标准投影坐标系保存该图层",
        "save the layer in WGS84 or a standard projected CRS",
    ),
    "err_latlon_swapped": (
        "纬度和经度写反了：横坐标范围 {x0:.4f}–{x1:.4f}，纵坐标范围 {y0:.4f}–{y1:.4f}",
        "latitude/longitude are swapped: x runs {x0:.4f}–{x1:.4f}, y runs {y0:.4f}–{y1:.4f}",
    ),
    "err_fix_latlon_swapped": (
        "请按“经度, 纬度”的顺序写坐标（GeoJSON 的顺序），或导出前在 GIS 中交换坐标轴",
        "write coordinates as [longitude, latitude] (GeoJSON order), or swap the axes in your "
        "GIS before exporting",
    ),
    "err_not_lonlat": (
        "坐标如 ({x:.1f}, {y:.1f}) 不是经纬度，但文件声明的坐标系是 {crs}",
        "coordinates like ({x:.1f}, {y:.1f}) are not longitude/latitude, but the file "
        "declares {crs}",
    ),
    "err_fix_not_lonlat": (
        "GeoJSON 必须使用 WGS84 经纬度：请以 WGS84 重新导出，或另存为保留投影坐标系的 GeoPackage，"
        "或在设置中指明文件的坐标系（例如 EPSG:4547）",
        "GeoJSON must hold WGS84 longitude/latitude (RFC 7946): export it again as WGS84, or "
        "save it as GeoPackage, which keeps its projected CRS, or name the file's coordinate "
        "system with --crs (e.g. --crs EPSG:4547)",
    ),
    "err_csv_points_only": (
        "CSV 只能存放点（服务站、兴趣点、出入口），不能存放{layer}图层",
        "a CSV can only hold points (stations, pois, gates), not the {layer} layer",
    ),
    "err_fix_csv_points": (
        "请以 GeoJSON、GeoPackage 或 Shapefile 格式提供{layer}",
        "give {layer} as GeoJSON, GeoPackage or Shapefile",
    ),
    "err_no_lonlat_columns": (
        "没有经度/纬度列（现有列：{found}）",
        "no longitude/latitude columns (found columns: {found})",
    ),
    "err_fix_lonlat_columns": (
        "请把两列命名为“经度”和“纬度”",
        "name the columns lon/lng/longitude/经度 and lat/latitude/纬度",
    ),
    "err_coord_empty": ("坐标为空", "coordinate is empty"),
    "err_coord_not_number": ("坐标 {cell!r} 不是数字", "coordinate {cell!r} is not a number"),
    "err_fix_decimal_degrees": (
        "请写十进制度数，例如 116.3975 和 39.9087",
        "write decimal degrees, e.g. 116.3975 and 39.9087",
    ),
    "err_lonlat_columns_swapped": (
        "经度和纬度似乎写反了：“{lon}”列的值如 {x:g}，“{lat}”列的值如 {y:g}",
        "longitude and latitude look swapped: '{lon}' holds values like {x:g} and '{lat}' "
        "values like {y:g}",
    ),
    "err_fix_swap_columns": (
        "请交换这两列的列名（在中国经度约为 73–135，纬度约为 18–54）",
        "swap the two column names (longitude is about 73-135 in China, latitude 18-54)",
    ),
    "err_coord_not_degrees": (
        "({lon}, {lat}) 不是以度为单位的经纬度",
        "({lon}, {lat}) is not longitude/latitude in degrees",
    ),
    "err_fix_degrees": ("请以十进制度数给出经纬度", "give longitude/latitude in decimal degrees"),
    "err_coords_bad_total": (
        "共有 {n:,} 行的坐标为空、不是数字或不是度数",
        "{n:,} rows in all have coordinates that are empty, not numbers or not degrees",
    ),
    "err_fix_degrees_every_row": ("请在每一行写十进制度数", "write decimal degrees in every row"),
    "err_boundary_missing": ("缺少街道边界", "the street boundary is missing"),
    "err_boundary_empty": ("边界图层为空", "the boundary layer is empty"),
    "err_fix_boundary": (
        "请添加街道边界（boundary.geojson，街道的多边形），或另行给出边界文件",
        "add boundary.geojson (a polygon of the street), or pass --boundary FILE",
    ),
    "err_boundary_not_polygons": (
        "边界含有 {kinds}，不是多边形",
        "the boundary holds {kinds}, not polygons",
    ),
    "err_boundary_no_area": ("边界没有面积", "the boundary has no area"),
    "err_fix_boundary_polygon": ("请把街道边界画成多边形", "draw the street boundary as a polygon"),
    "err_street_empty": (
        "街道是空的：{n:,} 栋楼中没有一栋位于边界内（边界面积 {area:,.0f} m²）",
        "the street is empty: none of the {n:,} buildings lies inside the boundary, which "
        "encloses {area:,.0f} m²",
    ),
    "err_fix_street_empty": (
        "请检查边界：它应围住街道的楼栋（边界可能画错了位置或比例，或使用了另一坐标系）",
        "check the boundary: it should enclose the street's buildings (a boundary drawn at "
        "the wrong place or scale, or in another coordinate system)",
    ),
    "err_gpkg_no_layer": (
        "{file} 含 {n} 个图层（{described}），没有一个名为“{layer}”：不清楚哪个图层存放{layer}",
        "{file} holds {n} layers ({described}) and none is named '{layer}': which one holds "
        "the {layer} is unclear",
    ),
    "err_fix_gpkg_layer": (
        "请把存放{layer}的图层改名为“{layer}”，或把它单独保存在 {file} 中",
        "rename the layer holding the {layer} to '{layer}', or save it alone in {file}",
    ),
    "osm_gates_guessed": (
        "{n} 个封闭小区在 OpenStreetMap 中没有标出入口，其出入口为推测（{detail}）",
        "{n} gated compound(s) have no gate mapped in OpenStreetMap, so their gates are "
        "guessed ({detail})",
    ),
    "osm_gate_crossings": (
        "{compound}：{n} 处路径穿越围墙处用作出入口",
        "{compound}: {n} path crossing(s) used as gates",
    ),
    "osm_gate_none": (
        "{compound}：没有路径进入，楼栋连到最近的公共道路",
        "{compound}: no path enters it, its buildings reach the nearest public link",
    ),
    "osm_fix_gates": (
        "请在 OpenStreetMap 中标出出入口（围墙处路径上的大门或入口节点），或改用含出入口图层的文件夹数据",
        "map the gates (barrier=gate or entrance=* nodes on the paths at the wall) in "
        "OpenStreetMap, or give a gates layer in a folder street",
    ),
    "osm_relation": (
        "OpenStreetMap 关系 {id}（{name}，{tag}={code}）",
        "OpenStreetMap relation {id} ({name}, {tag}={code})",
    ),
    "osm_several_streets": (
        "数据中有多个带代码的街道关系（{relations}）：未从中取街道代码",
        "the extract holds several street relations with codes ({relations}): no street code "
        "is taken from it",
    ),
    "osm_several_counties": (
        "数据中有多个区县关系（{counties}）：未从中取区县代码",
        "the extract holds several county relations ({counties}): no county code is taken from it",
    ),
    "osm_unreadable": (
        "无法读取 OpenStreetMap 数据文件：{detail}",
        "could not read the OSM extract: {detail}",
    ),
    "osm_fix_give_extract": (
        "请提供 OpenStreetMap 的 .osm（XML）或 .osm.pbf 文件，例如从 openstreetmap.org 导出的文件或 "
        "Geofabrik 的分区数据",
        "give an OpenStreetMap .osm (XML) or .osm.pbf file, e.g. an openstreetmap.org export "
        "or a Geofabrik extract",
    ),
    "osm_boundary_far": (
        "边界距 OpenStreetMap 数据覆盖的范围（经度 {x0:.4f}–{x1:.4f}，纬度 {y0:.4f}–{y1:.4f}）"
        "{km:,.1f} 公里：该数据不含这个街道",
        "the boundary lies {km:,.1f} km from the area the OSM extract covers (longitude "
        "{x0:.4f}–{x1:.4f}, latitude {y0:.4f}–{y1:.4f}): the extract holds no data for this "
        "street",
    ),
    "osm_fix_boundary_extract": (
        "请确认边界属于这份数据（在 QGIS 中同时打开两者），或下载覆盖该街道的数据",
        "check that the boundary belongs to this extract (open both in QGIS), or download an "
        "extract that covers the street",
    ),
    "osm_empty_in_boundary": (
        "OpenStreetMap 数据在边界内及边界外 {margin:,.0f} 米内没有道路、楼栋或其他要素：边界可能在数据范围之外",
        "the OSM extract holds no streets, buildings or other features inside the boundary or "
        "within {margin:,.0f} m of it: the boundary may lie outside the area of the extract",
    ),
    "osm_empty": (
        "OpenStreetMap 数据中没有道路、楼栋或其他要素",
        "the OSM extract holds no streets, buildings or other features",
    ),
    "osm_fix_export_again": (
        "请重新导出该街道范围的数据（openstreetmap.org 的“导出”，或 Geofabrik/BBBike 分区数据）",
        "export the street's area again (openstreetmap.org 'Export', or a Geofabrik/BBBike "
        "extract)",
    ),
    "osm_xml_root": (
        "XML 文件的根元素是 <{root}>，不是 OpenStreetMap 的 <osm>",
        "an XML file whose root element is <{root}>, not OpenStreetMap's <osm>",
    ),
    "osm_xml_empty": ("该 .xml 文件不含 XML 元素", "an .xml file that holds no XML elements"),
    "osm_fix_xml": (
        "请提供 OpenStreetMap 的 XML 导出文件（根元素 <osm>：.osm、.osm.xml）或 .osm.pbf 数据；"
        "KML 或 GPX 轮廓请作为边界文件提供",
        "give an OpenStreetMap XML export (root element <osm>: .osm, .osm.xml) or an .osm.pbf "
        "extract; a KML or GPX outline goes with --boundary",
    ),
    "osm_not_extract": (
        "不是 OpenStreetMap 数据：应为 OSM XML（.osm、.osm.xml，或根元素为 <osm> 的 .xml）或 "
        "PBF（.osm.pbf）",
        "not an OpenStreetMap extract: expected OSM XML (.osm, .osm.xml, or .xml with the root "
        "element <osm>) or PBF (.osm.pbf)",
    ),
    "osm_fix_rename": (
        "请把文件改名为 .osm（XML）或 .osm.pbf，或改为提供图层文件的文件夹",
        "rename the file to .osm (XML) or .osm.pbf, or give a folder of layer files",
    ),
    "osm_not_readable_file": ("不是可读的非空文件", "not a readable, non-empty file"),
    "osm_fix_osm_file": (
        "请提供 OpenStreetMap 的 .osm 或 .osm.pbf 文件",
        "give an OpenStreetMap .osm or .osm.pbf file",
    ),
    "cov_stations_off": (
        "{n} 个服务站距任何可步行的公共道路都超过 {snap:g} 米，服务不到任何人：{ids}",
        "{n} station(s) lie more than {snap:g} m from any public walkable link and serve "
        "nobody: {ids}",
    ),
    "cov_fix_station_coords": (
        "请检查服务站坐标（来自国内网络地图的点需选择坐标系 GCJ-02 或 BD-09），或补上通往它们的步行道",
        "check the station coordinates (GCJ-02/BD-09 points need --points-crs) or add the "
        "footpath that reaches them",
    ),
    "cov_no_station": (
        "步行网络上没有服务站（计入的类型：{kinds}）；所有住户都未覆盖",
        "no service station on the walking network (kinds counted: {kinds}); every household "
        "is uncovered",
    ),
    "cov_fix_no_station": (
        "请提供服务站图层，或在设置中计入更多服务站类型",
        "give a stations layer (--stations FILE) or count more kinds (--service-kinds "
        "KIND,...; the service_kinds setting)",
    ),
    "cov_buildings_off": (
        "{n} 栋楼（{households} 户）距可通行的步行道路超过 {snap:g} 米，计为未覆盖：{ids}",
        "{n} building(s) with {households} households lie more than {snap:g} m from any "
        "walkable link they may use and count as uncovered: {ids}",
    ),
    "cov_fix_buildings_off": (
        "请补上通往它们的道路（或小区的出入口和内部道路）",
        "add the paths that reach them (or the compound's gates and internal paths)",
    ),
    "cov_stranded": (
        "{n} 栋楼（{households} 户）位于没有服务站能到达的步行网络片段上",
        "{n} building(s) with {households} households are on pieces of the walking network "
        "that no station can reach",
    ),
    "cov_fix_missing_links": (
        "请检查道路图层中缺失的连接（出入口、过街处、桥）",
        "check for missing links (gates, crossings, bridges) in the roads layer",
    ),
    "cov_station_piece": (
        "{station}：所在片段 {nodes} 个节点、道路 {length:,.0f} 米，距主网络 {main:,.0f} 米",
        "{station}: piece of {nodes} nodes, {length:,.0f} m of links, {main:,.0f} m from the "
        "main network",
    ),
    "cov_station_pieces": (
        "{n} 个服务站位于与主网络断开（超过 {slack:g} 米的吸附容差）的步行网络片段上，只服务该片段：{named}",
        "{n} station(s) stand on a piece of the walking network cut off from the main network "
        "(farther than the {slack:g} m snap slack) and serve only that piece: {named}",
    ),
    "cov_fix_station_pieces": (
        "请补上连接该片段与主网络的道路，把服务站移到主网络上，或调大主网络吸附容差",
        "add the link that joins the piece to the main network, move the station onto it, or "
        "raise snap_main_slack_m",
    ),
    "cov_building_piece": (
        "第 {piece} 块：{nodes} 个节点、道路 {length:,.0f} 米，距主网络 {main:,.0f} 米，"
        "{buildings} 栋楼 {households:,.0f} 户（{ids}）",
        "piece {piece}: {nodes} nodes, {length:,.0f} m of links, {main:,.0f} m from the main "
        "network, {buildings} building(s) with {households:,.0f} households ({ids})",
    ),
    "cov_more_pieces": ("；另有 {n} 块", "; and {n} more piece(s)"),
    "cov_building_pieces": (
        "{n} 栋楼（{households:,.0f} 户）连在与主网络断开（超过 {slack:g} 米的吸附容差）的 "
        "{pieces} 块步行网络片段上：{named}{more}",
        "{n} building(s) with {households:,.0f} households are attached to {pieces} piece(s) "
        "of the walking network cut off from the main network (farther than the {slack:g} m "
        "snap slack): {named}{more}",
    ),
    "cov_fix_building_pieces": (
        "请补上把这些片段连到主网络的道路（出入口、过街处、台阶、人行天桥）",
        "add the links (gates, crossings, steps, footbridges) that join these pieces to the "
        "main network",
    ),
    "coverage_notes": ("覆盖计算的提示", "Coverage notes"),
    "points_crs_wgs84": ("WGS84（卫星定位、OpenStreetMap）", "WGS84 (GPS, OpenStreetMap)"),
    "points_crs_gcj02": ("GCJ-02（高德、腾讯地图）", "GCJ-02 (Amap, Tencent)"),
    "points_crs_bd09": ("BD-09（百度地图）", "BD-09 (Baidu)"),
    "col_barrier": ("围墙出入口标注", "barrier"),
    "col_code_county": ("区县代码", "code_county"),
    "col_code_street": ("街道代码", "code_street"),
    "col_max_stations": ("服务站上限", "max_stations"),
    "col_max_network_edges": ("步行网络边数上限", "max_network_edges"),
    "osm_no_data_for_boundary": (
        "OpenStreetMap 数据中没有可用作边界的数据",
        "the OSM extract holds no data to take a boundary from",
    ),
    "osm_fix_nonempty": (
        "请提供非空的数据文件或边界文件",
        "give a non-empty extract or a boundary file",
    ),
    "err_boundary_no_crs": ("边界没有坐标参考系（CRS）", "the boundary has no CRS"),
    "err_fix_boundary_crs": (
        "请连同坐标系保存边界（GeoJSON 即为 WGS84）",
        "save the boundary with its CRS (GeoJSON is WGS84)",
    ),
    "err_boundary_not_polygon": (
        "边界是 {kind}，不是多边形",
        "the boundary is a {kind}, not a polygon",
    ),
    "err_fix_polygon_boundary": ("请提供多边形边界", "give a polygon boundary"),
    "err_boundary_not_degrees": (
        "边界不是以度为单位的经纬度",
        "the boundary is not in longitude/latitude degrees",
    ),
    "err_fix_boundary_wgs84": (
        "请以 WGS84 或连同其坐标系提供边界",
        "give the boundary in WGS84 or with its CRS",
    ),
    "osm_online_no_data": (
        "OpenStreetMap 没有这个请求的街道多边形或数据：{detail}",
        "OpenStreetMap has no street polygon or data for this request: {detail}",
    ),
    "osm_fix_place": (
        "请检查地名（例如“学院路街道, 海淀区, 北京市”），提供多边形，或改为加载数据文件并给出边界",
        "check the place name (e.g. '学院路街道, 海淀区, 北京市'), give a polygon, or load an "
        "extract file with --boundary",
    ),
    "osm_offline": (
        "无法连接 OpenStreetMap：{detail}；请改为加载数据文件",
        "could not reach OpenStreetMap: {detail}; load an extract file instead",
    ),
    "osm_fix_offline": (
        "请下载 .osm 导出文件（openstreetmap.org 的“导出”）或 .osm.pbf 分区数据后加载，并给出街道边界",
        "download a .osm export (openstreetmap.org 'Export') or a .osm.pbf extract and pass "
        "the file, with --boundary for the street outline",
    ),
    "osm_place_needs_name": (
        "在线地名需要一个名称，例如 学院路街道, 北京",
        "place: needs a name, e.g. place:学院路街道, 北京",
    ),
    "osm_fix_place_name": ("请填写地名", "write the place name after 'place:'"),
    "osm_polygon_no_boundary": (
        "在线下载 OpenStreetMap 数据需要街道边界多边形，但没有给出边界",
        "source 'osm' downloads OpenStreetMap data inside a polygon, but no boundary was given",
    ),
    "osm_polygon_no_polygon": ("边界文件没有给出多边形", "the boundary file gives no polygon"),
    "osm_fix_polygon": (
        "请给出街道边界文件（街道多边形），或改用在线地名",
        "pass --boundary FILE (the street polygon), or use place:NAME",
    ),
    "err_register_no_households": (
        "没有户数列（现有列：{found}）",
        "no households column (found: {found})",
    ),
    "err_fix_register_households": (
        "请把该列命名为“户数”（人口列命名为“人口”或“常住人口”）",
        "name the column 户数 or households (and 人口/常住人口 or population)",
    ),
    "err_register_no_key": (
        "没有楼栋或小区列（现有列：{found}）",
        "no building or compound column (found: {found})",
    ),
    "err_fix_register_key": (
        "请添加“楼栋编号/楼栋名称”或“小区编号/小区名称”列",
        "add a column 楼栋编号/楼栋名称 (building_id/building_name) or 小区编号/小区名称 "
        "(compound_id/compound_name)",
    ),
    "up_bad_zip": ("不是可读的 ZIP 文件（{detail}）", "not a readable zip file ({detail})"),
    "up_fix_bad_zip": (
        "请重新上传该 ZIP 文件，或逐个上传图层文件",
        "upload the zip again, or the layer files one by one",
    ),
    "up_zip_too_big": (
        "该 ZIP 解压后为 {mb:.1f} MB，超过 {limit:g} MB 的上限",
        "the zip unpacks to {mb:.1f} MB, over the {limit:g} MB limit",
    ),
    "up_fix_zip_too_big": (
        "请上传更少或更小的图层，或调高上传上限",
        "upload fewer or smaller layers, or raise Settings.upload_limit_mb",
    ),
    "up_zip_bomb": (
        "该 ZIP 整体压缩了 {ratio:.0f} 倍（上限 {limit:.0f} 倍；可能是压缩炸弹）",
        "the zip is compressed {ratio:.0f} times as a whole (at most {limit:.0f}; a zip bomb?)",
    ),
    "up_fix_unzipped": ("请直接上传未压缩的图层文件", "upload the layer files unzipped"),
    "up_too_big": (
        "上传的文件共 {mb:.1f} MB，超过 {limit:g} MB 的上限",
        "the upload is {mb:.1f} MB, over the {limit:g} MB limit",
    ),
    "up_fix_too_big": ("请上传更少或更小的文件", "upload fewer or smaller files"),
    "up_no_file": ("没有上传文件", "no file uploaded"),
    "up_fix_no_file": (
        "请选择街道文件夹的 ZIP 或图层文件",
        "choose a zip of the street folder or layer files",
    ),
    "up_not_layer_type": (
        "文件类型 {suffix} 不是图层文件",
        "file type {suffix} is not a layer file",
    ),
    "up_fix_layer_types": (
        "请上传 GeoJSON、GeoPackage、Shapefile 各部分、CSV/Excel、OpenStreetMap 数据（.osm/.osm.pbf），"
        "或街道文件夹的 ZIP",
        "upload GeoJSON, GeoPackage, Shapefile parts, CSV/XLSX, an .osm/.osm.pbf extract, or "
        "a zip of the street folder",
    ),
    "up_zip_and_files": (
        "请只上传一个 ZIP 或分开的图层文件，不要两者同时上传",
        "upload either one zip or separate layer files, not both",
    ),
    "up_fix_one_zip": ("请上传一个 ZIP", "upload one zip"),
    "up_not_layer_name": (
        "{name!r} 的文件名不是图层名，不会被读取",
        "{name!r} is not named like a layer, so the planner would not read it",
    ),
    "up_fix_layer_names": (
        "请按图层命名文件（{names}，例如 boundary.geojson、buildings.shp），或上传街道文件夹的 ZIP",
        "name layer files {names} (e.g. boundary.geojson, buildings.shp), or upload a zip of "
        "the street folder",
    ),
    "up_same_layer": (
        "{name!r} 和 {other!r} 都是 {layer}",
        "{name!r} and {other!r} are both {layer}",
    ),
    "up_fix_one_per_layer": ("每个图层只上传一个文件", "upload one file per layer"),
    "geom_kind_polygon": ("多边形", "polygon"),
    "geom_kind_line": ("线", "line"),
    "geom_kind_point": ("点", "point"),
    "err_wrong_geometry": (
        "{n} 个要素是 {got}，应为{kind}：{ids}",
        "{n} feature(s) are {got}, expected {kind}s: {ids}",
    ),
    "err_fix_wrong_geometry": (
        "该图层只能包含{kind}；请把其他要素移到各自的图层",
        "this layer must hold {kind}s only; move other features to their own layer",
    ),
    "err_duplicate_id": (
        "编号 {value!r} 被 {n} 个要素使用",
        "id {value!r} is used by {n} features",
    ),
    "err_fix_duplicate_id": ("请给每个要素一个不同的{field}", "give every feature its own {field}"),
    "err_yes_no_not_number": (
        "“{column}”的值 {value!r} 是“是/否”，不是数字",
        "{column} {value!r} is a yes/no value, not a number",
    ),
    "err_not_number": ("“{column}”的值 {value!r} 不是数字", "{column} {value!r} is not a number"),
    "err_fix_whole_number": (
        "请写整数（或留空以估算）",
        "write a whole number (or leave it empty to estimate)",
    ),
    "err_fix_number": (
        "请写数字（或留空以估算）",
        "write a number (or leave it empty to estimate)",
    ),
    "err_more_not_number": (
        "另有 {n} 个“{column}”值不是数字",
        "... and {n} more non-numeric {column} values",
    ),
    "err_fix_numbers_only": ("请只写数字", "write numbers only"),
    "cov_work": (
        "{stations:,} 个服务站 × {thresholds} 个时间阈值 = {circles:,} 个服务圈，步行网络 {edges:,} 条边："
        "预计约 {time}，内存 {memory}",
        "{stations:,} stations x {thresholds} thresholds = {circles:,} circles on {edges:,} "
        "network edges: expected about {time} and {memory}",
    ),
    "cov_work_time_range": ("{fast}（有空闲核心时）至 {slow}", "{fast} (idle cores) to {slow}"),
    "cov_too_many_stations": (
        "{n:,} 个服务站超过一次覆盖计算绘制服务圈的上限（{limit:,} 个）：{work}",
        "{n:,} service stations are more than one coverage run draws circles for "
        "(max_stations = {limit:,}): {work}",
    ),
    "cov_fix_too_many_stations": (
        "如本机能承受，可在设置中调高服务站上限（例如 {n}），或减少服务站（服务站文件、计入的服务站类型）",
        "raise the limit if this machine can take it (setting max_stations, e.g. "
        "--max-stations {n} on the command line), or give fewer stations (--stations FILE, "
        "--service-kinds)",
    ),
    "cov_too_many_edges": (
        "步行网络有 {n:,} 条边，超过一次覆盖计算的上限（{limit:,} 条）：{work}",
        "the walking network has {n:,} edges, more than one coverage run works on "
        "(max_network_edges = {limit:,}): {work}",
    ),
    "cov_fix_too_many_edges": (
        "如本机能承受，可在设置中调高步行网络边数上限（例如 {n}），或缩小范围（更小的边界或外扩距离）",
        "raise the limit if this machine can take it (setting max_network_edges, e.g. "
        "--max-network-edges {n} on the command line), or cover a smaller area (a smaller "
        "boundary or margin_m)",
    ),
    # --- grids14: thin strips forced by the atoms ---
    "grid_shape_forced_atom": (
        "紧凑度 {compactness} 低于 {minimum}：由网格单元决定：网格单元 {atom}（{households} 户，"
        "自身紧凑度 {atom_pp}）归入本社区任一可容纳它（不超过户数上限）的网格，该网格紧凑度都低于 {minimum}",
        "compactness {compactness} below {minimum}: forced by the atoms: atom {atom} "
        "({households} households, Polsby-Popper {atom_pp} alone) leaves every grid of its "
        "community that can take it within the bounds below {minimum}",
    ),
    # --- app19: upload and source errors in the reader's language (issue 19 item 6) ---
    "up_too_many_members": (
        "该 ZIP 含 {n} 个文件（上限 {limit} 个）",
        "the zip holds {n} files (at most {limit})",
    ),
    "up_fix_zip_layers_only": ("请只压缩街道的图层文件", "zip only the street's layer files"),
    "up_unsafe_path": ("ZIP 中的路径 {member!r} 不安全", "unsafe path {member!r} in the zip"),
    "up_fix_relative_paths": ("请用相对路径压缩文件夹", "zip the folder with relative paths"),
    "up_path_too_long": (
        "成员路径 {member!r} 长 {n:,} 个字符（上限 {limit} 个，每级文件夹或文件名不超过 255 字节）",
        "member path {member!r} is {n:,} characters long (at most {limit}, and 255 bytes per "
        "folder or file name)",
    ),
    "up_fix_short_names": (
        "请用较短的文件夹名和文件名重新压缩",
        "zip the folder with short folder and file names",
    ),
    "up_member_bomb": (
        "成员 {member!r} 压缩了 {ratio:.0f} 倍（可能是压缩炸弹）",
        "member {member!r} is compressed {ratio:.0f} times (a zip bomb?)",
    ),
    "up_member_encrypted": (
        "成员 {member!r} 已加密（该 ZIP 设有密码）",
        "member {member!r} is encrypted (the zip has a password)",
    ),
    "up_fix_no_password": ("请不设密码重新压缩文件", "zip the files again without a password"),
    "up_member_method": (
        "成员 {member!r} 使用 {method} 压缩，规划工具无法解压",
        "member {member!r} is compressed with {method}, which the planner cannot unpack",
    ),
    "up_fix_deflate": (
        "请用标准 Deflate 方式重新压缩（7-Zip 选 Deflate，或用 zip 命令），或直接上传未压缩的文件",
        "zip the files again with standard Deflate (7-Zip: Deflate; or the 'zip' command), or "
        "upload them unzipped",
    ),
    "up_method_deflate64": (
        "Deflate64（Windows 资源管理器压缩大文件时所用）",
        "Deflate64 (what Windows Explorer uses for big files)",
    ),
    "up_method_aes": ("AES 加密", "AES encryption"),
    "up_method_n": ("第 {n} 号压缩方法", "method {n}"),
    "up_member_twice": (
        "成员 {member!r} 在 ZIP 中出现了两次",
        "member {member!r} appears twice in the zip",
    ),
    "up_fix_each_once": (
        "请重新压缩文件夹（每个文件一次）",
        "zip the folder again (each file once)",
    ),
    "up_file_and_folder": (
        "{member!r} 在 ZIP 中既是文件又是文件夹",
        "{member!r} is both a file and a folder in the zip",
    ),
    "up_fix_rename": (
        "请重命名该文件或文件夹后重新压缩",
        "rename the file or the folder and zip again",
    ),
    "up_unpacks_over": (
        "该 ZIP 解压后超过 {limit:g} MB（其文件头声明的更少）",
        "the zip unpacks to more than {limit:g} MB (its headers said less)",
    ),
    "up_fix_fewer_layers": ("请上传更少或更小的图层", "upload fewer or smaller layers"),
    "up_member_damaged": (
        "成员 {member!r} 已损坏（{detail}）",
        "member {member!r} is damaged ({detail})",
    ),
    "up_fix_zip_again": (
        "请重新下载或压缩这些文件（ZIP 在传输中损坏了）",
        "download or zip the files again (the zip was damaged on the way)",
    ),
    "up_member_unwritable": (
        "成员 {member!r} 无法写入（{detail}）",
        "member {member!r} cannot be written ({detail})",
    ),
    "up_fix_plain_names": (
        "请用简单、较短的文件名重新压缩文件夹",
        "zip the folder again with plain, short file names",
    ),
    "up_extra_type": (
        "文件类型 {suffix} 不是{kind}文件",
        "file type {suffix} is not a {kind} file",
    ),
    "up_fix_extra_type": ("请上传 {types} 文件", "upload a {types} file"),
    "up_no_suffix": ("（无）", "(none)"),
    "up_extra_kind_stations": ("服务站", "stations"),
    "up_extra_kind_register": ("住户登记", "register"),
    "up_extra_kind_station_kinds": ("服务设施类型", "station_kinds"),
    "up_file_too_big": (
        "该文件为 {mb:.1f} MB，超过 {limit:g} MB 的上限",
        "the file is {mb:.1f} MB, over the {limit:g} MB limit",
    ),
    "up_fix_smaller_file": ("请上传更小的文件", "upload a smaller file"),
    "src_no_such_path": ("找不到文件或文件夹：{src}", "no such file or folder: {src}"),
    "src_fix_no_such_path": (
        "请给出 demo、图层文件所在的文件夹、.osm/.osm.xml/.osm.pbf 数据或 place:地名",
        "give 'demo', a folder of layer files, an .osm/.osm.xml/.osm.pbf extract or place:NAME",
    ),
    "src_not_loadable": (
        "无法加载 {src}：既不是文件夹，也不是 OpenStreetMap 数据",
        "cannot load {src}: not a folder and not an OpenStreetMap extract",
    ),
    "src_fix_not_loadable": (
        "请给出含 boundary.geojson（及其他图层）的文件夹，或 .osm/.osm.pbf 文件；单个图层文件请放入文件夹",
        "give a folder holding boundary.geojson (and other layers), or an .osm/.osm.pbf file; "
        "single layer files go in a folder",
    ),
    "src_boundary_unread": (
        "缺少街道边界：文件夹中有 {name}，但文件夹中的图层须为 .geojson、.json、.gpkg 或 .shp",
        "the street boundary is missing: {name} is in the folder, but folders hold layers as "
        ".geojson, .json, .gpkg or .shp",
    ),
    "src_fix_boundary_unread": (
        "请用 --boundary {name} 指定它（该处可读 KML 及 GDAL 能读的其他格式），或另存为 boundary.geojson",
        "pass it as --boundary {name} (KML and other formats GDAL reads are accepted there), "
        "or save it as boundary.geojson",
    ),
    "dxf_unreadable": (
        "无法读取该 DXF 图纸：{detail}",
        "the DXF drawing cannot be read: {detail}",
    ),
    "dxf_fix_unreadable": (
        "请重新另存为 DXF（AutoCAD：另存为 > DXF，任意版本）",
        "save it again as DXF (AutoCAD: Save As > DXF, any version)",
    ),
    # --- dist14: proofs over the fixed groups of large compounds ---
    "grid_reason_exact_infeasible_groups": (
        "已证明：社区 {community} 的这一块（{households} 户，{units} 个单元）无论怎样连片划分，"
        "都无法使每个网格在 {lo}-{hi} 户之间（精确方法）；其中 {groups} 个单元是规划器把超过上限的"
        "小区按整栋楼预先分成的固定组，证明针对这些固定组，而非单栋楼",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households, {units} units) keeps every grid within {lo}-{hi} (exact method); "
        "{groups} of the units are fixed groups of whole buildings the planner made of "
        "compounds above the maximum: the proof is over those groups, not single buildings",
    ),
    "grid_reason_exact_infeasible_least_groups": (
        "已证明：社区 {community} 的这一块（{households} 户，{units} 个单元）无论怎样连片划分，"
        "都无法使每个网格在 {lo}-{hi} 户之间；本划分超出界限的户数合计 {excess} 户，已证明为最少"
        "（精确方法）；其中 {groups} 个单元是规划器把超过上限的小区按整栋楼预先分成的固定组，"
        "证明针对这些固定组，而非单栋楼",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households, {units} units) keeps every grid within {lo}-{hi}; this division has "
        "{excess} households outside the bounds in all, proved the fewest possible (exact "
        "method); {groups} of the units are fixed groups of whole buildings the planner made "
        "of compounds above the maximum: the proof is over those groups, not single buildings",
    ),
    # --- dist14g: proofs over single atoms round the grids out of bounds ---
    "grid_reason_exact_infeasible_atoms": (
        "已证明：社区 {community} 的这一块（{households} 户）无论怎样连片划分，都无法使每个网格在 "
        "{lo}-{hi} 户之间（精确方法）；证明针对超出界限的网格周围的 {atoms} 个单元，其中大小区的楼栋"
        "逐栋计入，与规划器的固定组无关",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households) keeps every grid within {lo}-{hi} (exact method); the proof is over the "
        "{atoms} units round the grids out of bounds, with the buildings of large compounds "
        "one by one, whatever the planner's fixed groups",
    ),
    "grid_reason_exact_infeasible_least_atoms": (
        "已证明：社区 {community} 的这一块（{households} 户）无论怎样连片划分，都无法使每个网格在 "
        "{lo}-{hi} 户之间；本划分超出界限的户数合计 {excess} 户，已证明为最少（精确方法）；证明针对"
        "超出界限的网格周围的 {atoms} 个单元，其中大小区的楼栋逐栋计入，与规划器的固定组无关",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households) keeps every grid within {lo}-{hi}; this division has {excess} households "
        "outside the bounds in all, proved the fewest possible (exact method); the proof is "
        "over the {atoms} units round the grids out of bounds, with the buildings of large "
        "compounds one by one, whatever the planner's fixed groups",
    ),
    "grid_regrouped": (
        "社区 {community}：按固定组无法使每个网格在界限内，精确方法逐栋楼找到了界限内的划分，"
        "超过上限的小区的固定组据此重新组成",
        "community {community}: no division within the bounds over the fixed groups of its "
        "compounds above the maximum; the exact method found one over single buildings, and "
        "the groups were re-formed from it",
    ),
    # --- dist14: exact method started from a rooted division ---
    "grid_exact_feasible_nogap": (
        "社区 {community}：精确方法（{units} 个单元，{households} 户）找到界限内的划分"
        "（以启发式网格为中心的模型；超出界限 0 户，已是最少），均衡度的最优性差距未界定，"
        "用时 {time_s:.1f} 秒",
        "community {community}: the exact method ({units} units, {households} households) "
        "found a division within the bounds (program rooted at the heuristic's grids; 0 "
        "households outside, the fewest possible); balance optimality gap not bounded "
        "({time_s:.1f} s)",
    ),
    # --- dist14c: proved bounds of the exact method ---
    "grid_exact_infeasible_least": (
        "社区 {community}：精确方法证明（{units} 个单元，{households} 户）不存在每个网格都在界限内的"
        "连片划分；所留划分超出界限 {excess} 户，已证明为最少，用时 {time_s:.1f} 秒",
        "community {community}: the exact method proved ({units} units, {households} "
        "households) that no contiguous division keeps every grid within the bounds; the "
        "division kept has {excess} households outside, proved the fewest ({time_s:.1f} s)",
    ),
    "grid_exact_infeasible_bound": (
        "社区 {community}：精确方法证明（{units} 个单元，{households} 户）不存在每个网格都在界限内的"
        "连片划分；所留划分超出界限 {excess} 户，任何连片划分至少超出 {bound} 户，"
        "用时 {time_s:.1f} 秒",
        "community {community}: the exact method proved ({units} units, {households} "
        "households) that no contiguous division keeps every grid within the bounds; the "
        "division kept has {excess} households outside, and every contiguous division has "
        "at least {bound} ({time_s:.1f} s)",
    ),
    "grid_reason_exact_infeasible_whole": (
        "已证明：社区 {community} 的这一块（{households} 户，{units} 个单元）无论怎样连片划分，"
        "都无法使每个网格在 {lo}-{hi} 户之间（精确方法）；其中 {whole} 个单元是超过上限、"
        "因设置不允许拆分（grid_split_large_compounds）而保持完整的小区，证明以此为前提",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households, {units} units) keeps every grid within {lo}-{hi} (exact method); "
        "{whole} of the units are compounds above the maximum kept whole because the "
        "settings forbid splitting them (grid_split_large_compounds): the proof rests on that",
    ),
    "grid_reason_exact_infeasible_least_whole": (
        "已证明：社区 {community} 的这一块（{households} 户，{units} 个单元）无论怎样连片划分，"
        "都无法使每个网格在 {lo}-{hi} 户之间；本划分超出界限的户数合计 {excess} 户，已证明为最少"
        "（精确方法）；其中 {whole} 个单元是超过上限、因设置不允许拆分"
        "（grid_split_large_compounds）而保持完整的小区，证明以此为前提",
        "proved: no contiguous division of this piece of community {community} ({households} "
        "households, {units} units) keeps every grid within {lo}-{hi}; this division has "
        "{excess} households outside the bounds in all, proved the fewest possible (exact "
        "method); {whole} of the units are compounds above the maximum kept whole because "
        "the settings forbid splitting them (grid_split_large_compounds): the proof rests "
        "on that",
    ),
    # --- dist14e: the exact division decided by work limits, the clock a safety ---
    "grid_exact_clock": (
        "社区 {community}：精确方法被时钟（安全上限）而非工作量上限停止：结果可能随机器负载而不同"
        "（可提高 grid_exact_time_limit_s 或 grid_exact_total_s）",
        "community {community}: the exact method was stopped by the clock (its safety), not "
        "by its work limits: the result may depend on the machine's load (raise "
        "grid_exact_time_limit_s or grid_exact_total_s)",
    ),
}


def t(key: str, lang: str = "zh", /, **fmt: Any) -> str:
    """The string ``key`` in ``lang`` (``"zh"`` or ``"en"``), formatted with ``fmt``."""
    zh, en = STRINGS[key]
    text = en if lang == "en" else zh
    return text.format(**fmt) if fmt else text


@dataclass(frozen=True)
class Items:
    """A listing in a :class:`Message` parameter, joined in the reader's language.

    ``{name}`` joins the items (``、`` in Chinese, ``", "`` in English, or ``sep``);
    ``{name!r}`` shows them as a Python list (``[137, 140]``).
    """

    values: tuple[Any, ...]
    sep: tuple[str, str] = LIST_SEP


class _Joined:
    """Items rendered for one language: formats as the joined items, reprs as a list."""

    def __init__(self, values: list[Any], sep: str) -> None:
        self.values, self.sep = values, sep

    def __format__(self, spec: str) -> str:
        return self.sep.join(format(v, spec) for v in self.values)

    def __repr__(self) -> str:
        return repr(self.values)

    def __str__(self) -> str:
        return format(self, "")


@dataclass(frozen=True)
class Message:
    """A user-facing message as a catalogue key and its parameters.

    It renders in either language with :meth:`render`; ``str()`` is the English.
    Parameters are plain values (grid codes, ids, counts, formatted with the
    template's format spec), :class:`Items` (lists and tuples become ``Items``), or
    nested messages rendered in the same language. Build one with :func:`msg`.

    Examples
    --------
    >>> m = msg("edit_grid_locked", grid="10000011010800100101")
    >>> str(m)
    'grid 10000011010800100101 is locked; unlock it first'
    >>> m.render("zh")
    '网格 10000011010800100101 已锁定，请先解锁'
    """

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.key not in STRINGS:
            raise KeyError(f"no string {self.key!r} in planner.i18n.STRINGS")

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``)."""
        return t(self.key, lang, **{k: _arg(v, lang) for k, v in self.params})

    def __str__(self) -> str:
        return self.render("en")

    @property
    def kwargs(self) -> dict[str, Any]:
        """The parameters as a dict (nested messages and items as they are)."""
        return dict(self.params)


def msg(key: str, /, **params: Any) -> Message:
    """A :class:`Message`: ``key`` of :data:`STRINGS` with its parameters."""
    return Message(
        key,
        tuple(
            (k, Items(tuple(v)) if isinstance(v, list | tuple) else v) for k, v in params.items()
        ),
    )


def items(values: Iterable[Any], *, sep: tuple[str, str] = LIST_SEP) -> Items:
    """A listing parameter with its own separators (default :data:`LIST_SEP`)."""
    return Items(tuple(values), sep)


def render(text: Message | str, lang: str = "en") -> str:
    """A message in ``lang``; plain text (e.g. read from a file) as it is."""
    return text.render(lang) if isinstance(text, Message) else str(text)


def from_english(text: str, prefix: str) -> Message | None:
    """Read an English text back as the message of a ``prefix`` key that renders it.

    For texts stored as English in data files (e.g. the grids' ``reason`` column),
    so they can be shown in Chinese. Only templates with plain ``{name}`` fields take
    part; ``None`` when no template renders exactly ``text``.

    Examples
    --------
    >>> m = from_english("community C1 holds only 150 households, below the minimum 200",
    ...                  "grid_reason_")
    >>> m.render("zh")
    '社区 C1 只有 150 户，低于下限 200 户'
    """
    for key, pattern in _english_patterns(prefix):
        hit = pattern.fullmatch(text)
        if hit is not None:
            m = msg(key, **hit.groupdict())
            if m.render("en") == text:
                return m
    return None


@functools.cache
def _english_patterns(prefix: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Regular expressions of the English templates of ``prefix`` keys, the most
    literal text first (so a longer template wins over a shorter one it contains)."""
    out = []
    for key, (_, en) in STRINGS.items():
        parts = list(string.Formatter().parse(en)) if key.startswith(prefix) else []
        if not parts or any(spec or conv for _, _, spec, conv in parts):
            continue
        seen: set[str] = set()
        regex = ""
        for lit, name, _, _ in parts:
            regex += re.escape(lit)
            if name:  # a field named twice must read the same both times
                regex += f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
                seen.add(name)
        literal = sum(len(lit) for lit, _, _, _ in parts)
        out.append((literal, key, re.compile(regex, re.DOTALL)))
    out.sort(key=lambda x: -x[0])
    return tuple((key, pattern) for _, key, pattern in out)


@dataclass(frozen=True)
class ColumnName:
    """A raw column name in a :class:`Message` parameter: as it is in English, its
    display label (:func:`column_label`) in Chinese."""

    name: str

    def __str__(self) -> str:
        return self.name


def _arg(value: Any, lang: str) -> Any:
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, ColumnName):
        return value.name if lang == "en" else column_label(value.name, lang)
    if isinstance(value, Items):
        sep = value.sep[1] if lang == "en" else value.sep[0]
        return _Joined([_arg(v, lang) for v in value.values], sep)
    return value


def layer_name(layer: str, lang: str = "zh", /) -> str:
    """Display name of a street data layer (``boundary``, ``nodes`` …); unknown names as is."""
    key = f"data_{layer}"
    return t(key, lang) if key in STRINGS else layer


def column_label(column: str, lang: str = "zh", /) -> str:
    """Display label of a raw table column (``rank``, ``community_id`` …); others as is.

    Examples
    --------
    >>> column_label("households_newly_covered")
    '新增覆盖户数'
    >>> column_label("rank", "en")
    'Rank'
    """
    for key in (f"col_{column}", column):
        if key in STRINGS and (key.startswith("col_") or column in _PLAIN_COLUMNS):
            return t(key, lang)
    return column


#: Raw columns whose label is the plain string of the same key.
_PLAIN_COLUMNS = frozenset({"name", "households", "code", "community", "kind"})


#: Characters that start Markdown (CommonMark, GFM, Streamlit's extras) when they
#: appear in text shown by ``st.markdown``/``st.error``/``st.caption``: backslash-escaped.
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&=:@])")
#: U+2060 WORD JOINER: invisible, it breaks the words GFM turns into links by itself
#: (``http://``, ``www.``, ``a@b.c``) and Streamlit's ``:emoji:`` and ``:colour[...]``,
#: which backslash escapes do not stop.
_JOINER = "\u2060"


def markdown_literal(text: object) -> str:
    r"""``text`` escaped so that Streamlit's Markdown shows it literally.

    For data text inside ``st.markdown``, ``st.error``, ``st.warning``, ``st.caption``
    messages: links, emphasis, headings, lists, math, emoji codes and HTML in the data
    are shown as the characters they are. Markdown specials are backslash-escaped, and
    an invisible word joiner (U+2060) follows each ``:`` and precedes each ``@`` and the
    ``.`` after ``www``, so no bare URL, e-mail address or ``:code:`` becomes a link or
    an icon.

    Examples
    --------
    >>> markdown_literal("[Click](http://x.example) *a*").replace("\u2060", "~")
    '\\[Click\\]\\(http\\:~//x\\.example\\) \\*a\\*'
    """
    out = _MD_SPECIALS.sub(r"\\\1", str(text))
    out = out.replace("\\:", "\\:" + _JOINER).replace("\\@", _JOINER + "\\@")
    return re.sub(r"(?i)\b(www)(\\\.)", r"\1" + _JOINER + r"\2", out)


def station_kind_label(kind: str, lang: str = "zh") -> str:
    """Label of a station kind (a key of :data:`planner.schema.STATION_KINDS`)."""
    from planner.schema import STATION_KINDS

    zh, en = STATION_KINDS.get(kind, (kind, kind))
    return en if lang == "en" else zh
