"""User-facing strings of the red map and the app, in Simplified Chinese and English.

Chinese is the default language. :func:`t` looks a key up and formats it; an unknown
key raises ``KeyError`` (so a typo fails in the tests, not silently on screen).

Examples
--------
>>> t("households", "en")
'Households'
>>> t("walk_note", "zh", speed=4.0)
'步行速度假设：4.0 km/h'
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
LANG_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}

#: key -> (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
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
    "source_osm": ("上传 OSM 数据（.osm / .osm.pbf）", "Upload an OSM extract (.osm / .osm.pbf)"),
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
    "not_available": (
        "此功能尚未就绪：{what} 模块还未合并到本版本。",
        "Not available yet: the {what} module is not part of this build yet.",
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
    "covered_share": ("覆盖率", "Share covered"),
    "outside_street": ("（街道外）", "(outside the street)"),
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
    "export_geojson": ("各图层 GeoJSON", "GeoJSON per layer"),
    "export_gpkg": ("GeoPackage", "GeoPackage"),
    "export_csv": ("CSV 表格", "CSV tables"),
    "export_html": ("红色地图 HTML", "Red map HTML"),
    "export_png": ("地图 PNG", "Map PNG"),
    "no_data": ("暂无数据", "No data"),
}


def t(key: str, lang: str = "zh", /, **fmt: Any) -> str:
    """The string ``key`` in ``lang`` (``"zh"`` or ``"en"``), formatted with ``fmt``."""
    zh, en = STRINGS[key]
    text = en if lang == "en" else zh
    return text.format(**fmt) if fmt else text


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


def station_kind_label(kind: str, lang: str = "zh") -> str:
    """Label of a station kind (a key of :data:`planner.schema.STATION_KINDS`)."""
    from planner.schema import STATION_KINDS

    zh, en = STATION_KINDS.get(kind, (kind, kind))
    return en if lang == "en" else zh
