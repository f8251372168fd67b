"""Read a Grafana dashboard JSON file into a `Dashboard`.

Accepts the classic JSON model as saved or exported by Grafana (with `__inputs` and
`__elements`), the API form `{"dashboard": {...}, "meta": {...}}`, and the pre-5.0 `rows`
layout. Panels are flattened out of rows and collapsed rows. A structural problem names
the file, the line and column, and the JSON path (`panels[3].targets`), because "bad
dashboard" alone sends people hunting through a 2000-line file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from scanium_e2e.dashboards.model import (
    Dashboard,
    DashboardInput,
    DatasourceRef,
    Option,
    Panel,
    Target,
    Variable,
)
from scanium_e2e.errors import ConfigurationError

PathPart = str | int


class DashboardFormatError(ConfigurationError):
    """The file is not a dashboard JSON model the checker can read."""


def dashboard_files(paths: Iterable[str | Path]) -> list[Path]:
    """The dashboard files `paths` name: a directory stands for the `*.json` files in it
    (sorted, not recursive); a file named twice counts once."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise DashboardFormatError(f"the directory {path} holds no *.json dashboard.")
            files.extend(found)
        else:
            files.append(path)
    unique: dict[Path, Path] = {}
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def load_dashboards(paths: Iterable[str | Path]) -> list[Dashboard]:
    """Every dashboard in `paths`; a directory stands for the `*.json` files in it."""
    return [load_dashboard(file) for file in dashboard_files(paths)]


def load_dashboard(path: str | Path) -> Dashboard:
    """Read and parse one dashboard file; raises DashboardFormatError with a clear message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DashboardFormatError(f"the dashboard file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise DashboardFormatError(f"the dashboard file {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise DashboardFormatError(
            f"cannot read the dashboard file {path}: {exc.strerror}."
        ) from None
    if not text.strip():
        raise DashboardFormatError(f"the dashboard file {path} is empty.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DashboardFormatError(
            f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})."
        ) from None
    return parse_dashboard(data, source=str(path), text=text)


def parse_dashboard(data: Any, source: str = "dashboard", text: str | None = None) -> Dashboard:
    """Build a Dashboard from decoded JSON; `text` (the file) lets errors give line/column."""
    return _Reader(source, text).dashboard(data)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def json_path(path: Sequence[PathPart]) -> str:
    """`panels[3].targets` for ["panels", 3, "targets"]."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def locate(text: str, path: Sequence[PathPart]) -> tuple[int, int] | None:
    """Line and column (1-based) where the value at `path` starts in the JSON `text`."""
    decoder = json.JSONDecoder()

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def after_item(index: int) -> int:
        index = skip(index)
        return skip(index + 1) if index < len(text) and text[index] == "," else index

    try:
        index = skip(0)
        for part in path:
            if isinstance(part, str):
                if text[index] != "{":
                    return None
                index = skip(index + 1)
                while text[index] != "}":
                    key, index = decoder.raw_decode(text, index)
                    index = skip(skip(index) + 1)  # past the colon
                    if key == part:
                        break
                    _, index = decoder.raw_decode(text, index)
                    index = after_item(index)
                else:
                    return None
            else:
                if text[index] != "[":
                    return None
                index = skip(index + 1)
                for _ in range(part):
                    _, index = decoder.raw_decode(text, index)
                    index = after_item(index)
                if text[index] == "]":
                    return None
    except (ValueError, IndexError):
        return None
    line = text.count("\n", 0, index) + 1
    return line, index - text.rfind("\n", 0, index)


class _Reader:
    def __init__(self, source: str, text: str | None) -> None:
        self.source = source
        self.text = text
        self.root: list[PathPart] = []
        self.elements: dict[str, Any] = {}

    def fail(self, path: Sequence[PathPart], message: str) -> DashboardFormatError:
        full = [*self.root, *path]
        where = self.source
        position = locate(self.text, full) if self.text is not None else None
        if position is not None:
            where += f", line {position[0]}, column {position[1]}"
        return DashboardFormatError(f"{where}: `{json_path(full)}` {message}")

    def obj(self, value: Any, path: Sequence[PathPart]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, found {_kind(value)}.")
        return value

    def lst(self, value: Any, path: Sequence[PathPart]) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, found {_kind(value)}.")
        return value

    def string(self, holder: dict[str, Any], key: str, path: Sequence[PathPart]) -> str:
        value = holder.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail([*path, key], f"must be a string, found {_kind(value)}.")
        return str(value)

    def integer(self, holder: dict[str, Any], key: str, path: Sequence[PathPart]) -> int | None:
        value = holder.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail([*path, key], f"must be a number, found {_kind(value)}.")
        try:
            return int(float(value))
        except ValueError:
            raise self.fail([*path, key], f"must be a number, found {value!r}.") from None

    def datasource(self, holder: dict[str, Any], path: Sequence[PathPart]) -> DatasourceRef:
        value = holder.get("datasource")
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items() if v is not None}
        raise self.fail(
            [*path, "datasource"],
            f"must be a name, a {{type, uid}} object or null, found {_kind(value)}.",
        )

    def dashboard(self, data: Any) -> Dashboard:
        top = self.obj(data, [])
        if "panels" not in top and "rows" not in top and isinstance(top.get("dashboard"), dict):
            self.root = ["dashboard"]  # the HTTP API's {"dashboard": ..., "meta": ...}
            top = top["dashboard"]
        inputs = tuple(self.inputs(top))
        elements = top.get("__elements") or {}
        self.elements = self.obj(elements, ["__elements"])
        panels = list(self.panels(self.lst(top.get("panels"), ["panels"]), ["panels"], "", ""))
        for index, raw_row in enumerate(self.lst(top.get("rows"), ["rows"])):
            row = self.obj(raw_row, ["rows", index])
            title = self.string(row, "title", ["rows", index])
            repeat = self.string(row, "repeat", ["rows", index])
            nested = self.lst(row.get("panels"), ["rows", index, "panels"])
            panels.extend(self.panels(nested, ["rows", index, "panels"], title, repeat))
        templating = self.obj(top.get("templating") or {}, ["templating"])
        raw_vars = self.lst(templating.get("list"), ["templating", "list"])
        variables = tuple(
            self.variable(raw, ["templating", "list", index]) for index, raw in enumerate(raw_vars)
        )
        return Dashboard(
            title=self.string(top, "title", []),
            uid=self.string(top, "uid", []),
            source=self.source,
            panels=tuple(panels),
            variables=variables,
            inputs=inputs,
        )

    def inputs(self, top: dict[str, Any]) -> Iterator[DashboardInput]:
        for index, raw in enumerate(self.lst(top.get("__inputs"), ["__inputs"])):
            path: list[PathPart] = ["__inputs", index]
            item = self.obj(raw, path)
            yield DashboardInput(
                name=self.string(item, "name", path),
                type=self.string(item, "type", path),
                plugin_id=self.string(item, "pluginId", path),
                value=self.string(item, "value", path),
            )

    def panels(
        self, items: list[Any], path: list[PathPart], row: str, row_repeat: str
    ) -> Iterator[Panel]:
        for index, raw in enumerate(items):
            here = [*path, index]
            panel = self.obj(raw, here)
            if panel.get("type") == "row":
                row = self.string(panel, "title", here)
                row_repeat = self.string(panel, "repeat", here)
                nested = self.lst(panel.get("panels"), [*here, "panels"])
                yield from self.panels(nested, [*here, "panels"], row, row_repeat)
                continue
            yield self.panel(panel, here, row, row_repeat)

    def panel(
        self, panel: dict[str, Any], path: list[PathPart], row: str, row_repeat: str
    ) -> Panel:
        library = ""
        reference = panel.get("libraryPanel")
        if reference is not None and "targets" not in panel:
            ref = self.obj(reference, [*path, "libraryPanel"])
            uid = self.string(ref, "uid", [*path, "libraryPanel"])
            name = self.string(ref, "name", [*path, "libraryPanel"])
            element = self.elements.get(uid)
            model = element.get("model") if isinstance(element, dict) else None
            if isinstance(model, dict):
                # An export carries the library panel's model in __elements: use its queries.
                panel = {**model, "id": panel.get("id", model.get("id")), "gridPos": None}
                path = ["__elements", uid, "model"]
            else:
                library = f"{name or '?'} (uid {uid or '?'})"
        targets_path = [*path, "targets"]
        targets = tuple(
            self.target(raw, [*targets_path, index])
            for index, raw in enumerate(self.lst(panel.get("targets"), targets_path))
        )
        return Panel(
            id=self.integer(panel, "id", path),
            title=self.string(panel, "title", path),
            type=self.string(panel, "type", path),
            row=row,
            datasource=self.datasource(panel, path),
            targets=targets,
            repeat=self.string(panel, "repeat", path),
            row_repeat=row_repeat,
            min_interval=self.string(panel, "interval", path),
            max_data_points=self.integer(panel, "maxDataPoints", path),
            library_panel=library,
            path=json_path([*self.root, *path]),
        )

    def target(self, raw: Any, path: list[PathPart]) -> Target:
        target = self.obj(raw, path)
        return Target(
            ref_id=self.string(target, "refId", path),
            expr=self.string(target, "expr", path),
            hidden=bool(target.get("hide", False)),
            datasource=self.datasource(target, path),
            min_step=self.string(target, "interval", path),
            instant=bool(target.get("instant", False)) and not bool(target.get("range", False)),
            path=json_path([*self.root, *path]),
        )

    def variable(self, raw: Any, path: list[PathPart]) -> Variable:
        item = self.obj(raw, path)
        name = self.string(item, "name", path)
        if not name:
            raise self.fail([*path, "name"], "is missing: every template variable needs a name.")
        current = self.obj(item.get("current") or {}, [*path, "current"])
        options = tuple(
            self.option(option, [*path, "options", index])
            for index, option in enumerate(self.lst(item.get("options"), [*path, "options"]))
        )
        all_value = item.get("allValue")
        return Variable(
            name=name,
            type=self.string(item, "type", path) or "query",
            query=self.variable_query(item, path),
            datasource=self.datasource(item, path),
            regex=self.string(item, "regex", path),
            multi=bool(item.get("multi", False)),
            include_all=bool(item.get("includeAll", False)),
            all_value=str(all_value) if isinstance(all_value, str) and all_value else None,
            current=self.values(current.get("value"), [*path, "current", "value"]),
            options=options,
            refresh=self.integer(item, "refresh", path) or 0,
            sort=self.integer(item, "sort", path) or 0,
            auto=bool(item.get("auto", False)),
            auto_count=self.integer(item, "auto_count", path) or 30,
            auto_min=self.string(item, "auto_min", path) or "10s",
            path=json_path([*self.root, *path]),
        )

    def variable_query(self, item: dict[str, Any], path: list[PathPart]) -> str:
        query = item.get("query")
        if isinstance(query, dict):
            # Grafana 10's Prometheus variable editor saves an object; its `query` string is
            # the classic form, and `definition` repeats it for display.
            text = query.get("query")
            if isinstance(text, str) and text:
                return text
            label, metric = query.get("label"), query.get("metric")
            if isinstance(label, str) and label:
                return f"label_values({metric}, {label})" if metric else f"label_values({label})"
            return self.string(item, "definition", path)
        return self.string(item, "query", path)

    def option(self, raw: Any, path: list[PathPart]) -> Option:
        option = self.obj(raw, path)
        values = self.values(option.get("value"), [*path, "value"])
        texts = self.values(option.get("text"), [*path, "text"])
        value = values[0] if values else ""
        return Option(text=texts[0] if texts else value, value=value)

    def values(self, value: Any, path: list[PathPart]) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            return tuple(str(v) for v in value if v is not None)
        if isinstance(value, dict):
            raise self.fail(path, "must be a string or a list of strings, found an object.")
        return (str(value),)
