"""Read alert rule files: Prometheus rule files and Grafana alert rule provisioning.

The format is detected from each file's content, not its name: a Prometheus rule file is
`groups:` of rules with `alert:` or `record:`; Grafana's provisioning has `apiVersion:` and
`groups:` of rules with `data:` and `condition:` (its JSON export has the same shape).
Bad input is one paragraph naming the place: malformed YAML with its file, line and
column; a rule with invalid PromQL with its file, group and rule; a file of neither format
with what was expected. PromQL is checked by the same parser the rest of the suite uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from scanium_e2e.alerts.model import (
    GrafanaQuery,
    GrafanaRule,
    PrometheusGroup,
    RuleFormat,
    RuleKind,
    RuleRef,
    RuleSet,
)
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.promql import PromQLSyntaxError, analyse, parse_duration

RULE_SUFFIXES = (".yml", ".yaml", ".json")
# Keys of a Prometheus rule group and rule (Prometheus 2.x/3.x, Cortex and Mimir).
_GROUP_KEYS = {
    "name", "interval", "rules", "limit", "query_offset", "evaluation_delay",
    "source_tenants", "labels", "align_evaluation_time_on_interval",
}  # fmt: skip
_RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
# What a Grafana provisioning file may hold besides alert rules.
_GRAFANA_OTHER = ("contactPoints", "policies", "templates", "muteTimes", "deleteRules")
NEITHER = (
    "{path} is neither a Prometheus rule file (`groups:` of rules with `alert:` or "
    "`record:`) nor Grafana alert rule provisioning (`apiVersion:` and `groups:` of rules "
    "with `condition:` and `data:`)."
)


class RuleFileError(ConfigurationError):
    """A rule file the suite cannot read: bad input (exit 4)."""


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files `paths` name: a folder stands for its *.yml, *.yaml and *.json files
    (sorted, not recursive); a file named twice counts once."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES)
            if not found:
                raise RuleFileError(f"the folder {path} holds no *.yml, *.yaml or *.json file.")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise RuleFileError(f"the alert rule path {path} does not exist.")
    unique: dict[Path, Path] = {}
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def read_yaml(path: Path) -> Any:
    """The file's YAML (or JSON) data; malformed input names file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleFileError(f"cannot read {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise RuleFileError(f"{path} is not UTF-8 text.") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "malformed YAML"
        raise RuleFileError(f"{where}: malformed YAML: {problem}.") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}: malformed YAML: {exc}.") from None


def load_rules(paths: Iterable[str | Path]) -> RuleSet:
    """Every rule in the files `paths` name (folders stand for their rule files)."""
    prometheus: list[PrometheusGroup] = []
    grafana: list[GrafanaRule] = []
    skipped: list[str] = []
    files = rule_files(paths)
    for path in files:
        data = read_yaml(path)
        kind = detect_format(data, path)
        if kind is RuleFormat.PROMETHEUS:
            prometheus.extend(_prometheus_groups(data, path))
        elif kind is RuleFormat.GRAFANA:
            rules = _grafana_rules(data, path)
            if not rules:
                held = [key for key in _GRAFANA_OTHER if key in data] or ["nothing"]
                skipped.append(
                    f"{path}: Grafana provisioning without alert rules ({', '.join(held)})"
                )
            grafana.extend(rules)
    return RuleSet(tuple(prometheus), tuple(grafana), tuple(files), tuple(skipped))


def detect_format(data: Any, path: Path) -> RuleFormat:
    """Which format the decoded file is; RuleFileError (one sentence) when neither."""
    if not isinstance(data, dict):
        raise RuleFileError(NEITHER.format(path=path))
    if "apiVersion" in data:
        return RuleFormat.GRAFANA
    groups = data.get("groups")
    if not isinstance(groups, list) or not groups:
        raise RuleFileError(NEITHER.format(path=path))
    rules = [
        rule
        for group in groups
        if isinstance(group, dict)
        for rule in group.get("rules") or []
        if isinstance(rule, dict)
    ]
    if rules and all("alert" in rule or "record" in rule for rule in rules):
        return RuleFormat.PROMETHEUS
    if rules and all("condition" in rule and "data" in rule for rule in rules):
        return RuleFormat.GRAFANA
    raise RuleFileError(NEITHER.format(path=path))


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RuleFileError(f"{where} must be a mapping.")
    return value


def _labels(value: Any, where: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(value, where).items()}


def _duration(value: Any, where: str) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return parse_duration(str(value))
    except PromQLSyntaxError:
        raise RuleFileError(f"{where}: {value!r} is not a duration (e.g. 30s, 5m).") from None


def _prometheus_groups(data: dict[str, Any], path: Path) -> list[PrometheusGroup]:
    unknown = sorted(set(data) - {"groups"})
    if unknown:
        raise RuleFileError(f"{path}: unknown field `{unknown[0]}` in a Prometheus rule file.")
    groups: list[PrometheusGroup] = []
    seen: set[str] = set()
    for index, group in enumerate(data["groups"]):
        if not isinstance(group, dict) or not group.get("name"):
            raise RuleFileError(f"{path}: groups[{index}] needs a `name`.")
        name = str(group["name"])
        if name in seen:
            raise RuleFileError(f"{path}: group `{name}` is defined twice.")
        seen.add(name)
        where = f"{path}: group `{name}`"
        extra = sorted(set(group) - _GROUP_KEYS)
        if extra:
            raise RuleFileError(f"{where}: unknown field `{extra[0]}`.")
        if "interval" in group:
            _duration(group["interval"], f"{where}, interval")
        raw_rules = group.get("rules") or []
        if not isinstance(raw_rules, list):
            raise RuleFileError(f"{where}: `rules` must be a list.")
        rules = tuple(
            _prometheus_rule(rule, where, name, path, i) for i, rule in enumerate(raw_rules)
        )
        groups.append(PrometheusGroup(name, path, rules, dict(group)))
    return groups


def _prometheus_rule(rule: Any, where: str, group: str, path: Path, index: int) -> RuleRef:
    if not isinstance(rule, dict):
        raise RuleFileError(f"{where}: every rule must be a mapping.")
    name = str(rule.get("alert") or rule.get("record") or "")
    if not name or ("alert" in rule) == ("record" in rule):
        raise RuleFileError(f"{where}: a rule needs exactly one of `alert:` and `record:`.")
    here = f"{where}, rule `{name}`"
    extra = sorted(set(rule) - _RULE_KEYS)
    if extra:
        raise RuleFileError(f"{here}: unknown field `{extra[0]}`.")
    expr = rule.get("expr")
    if not isinstance(expr, str | int | float) or not str(expr).strip():
        raise RuleFileError(f"{here}: `expr` is missing.")
    try:
        analyse(str(expr))
    except PromQLSyntaxError as exc:
        raise RuleFileError(f"{here}: invalid PromQL `{str(expr).strip()}`: {exc}") from None
    recording = "record" in rule
    if recording and ("for" in rule or "annotations" in rule):
        raise RuleFileError(f"{here}: a recording rule has no `for` or `annotations`.")
    return RuleRef(
        name=name,
        group=group,
        file=str(path),
        format=RuleFormat.PROMETHEUS,
        kind=RuleKind.RECORDING if recording else RuleKind.ALERTING,
        query=" ".join(str(expr).split()),
        for_s=_duration(rule.get("for"), f"{here}, for"),
        labels=_labels(rule.get("labels"), f"{here}: labels"),
        index=index,
    )


def _grafana_rules(data: dict[str, Any], path: Path) -> list[GrafanaRule]:
    rules: list[GrafanaRule] = []
    for index, group in enumerate(data.get("groups") or []):
        if not isinstance(group, dict) or not group.get("name"):
            raise RuleFileError(f"{path}: groups[{index}] needs a `name`.")
        name = str(group["name"])
        for position, rule in enumerate(group.get("rules") or []):
            rules.append(_grafana_rule(rule, f"{path}: group `{name}`", name, path, position))
    return rules


def _grafana_rule(rule: Any, where: str, group: str, path: Path, position: int) -> GrafanaRule:
    if not isinstance(rule, dict):
        raise RuleFileError(f"{where}: rules[{position}] must be a mapping.")
    title = str(rule.get("title") or rule.get("uid") or f"rules[{position}]")
    here = f"{where}, rule `{title}`"
    for required in ("condition", "data"):
        if required not in rule:
            raise RuleFileError(f"{here}: `{required}` is missing.")
    if not isinstance(rule["data"], list) or not rule["data"]:
        raise RuleFileError(f"{here}: `data` must be a non-empty list of queries.")
    data = tuple(_grafana_query(entry, here, i) for i, entry in enumerate(rule["data"]))
    condition = str(rule["condition"])
    ids = [entry.ref_id for entry in data]
    if condition not in ids:
        raise RuleFileError(
            f"{here}: the condition `{condition}` is none of the refIds {', '.join(ids)}."
        )
    queries = [e for e in data if not e.is_expression and str(e.model.get("expr", "")).strip()]
    shown = " ".join(str(queries[0].model.get("expr", "")).split()) if queries else ""
    return GrafanaRule(
        ref=RuleRef(
            name=title,
            group=group,
            file=str(path),
            format=RuleFormat.GRAFANA,
            query=shown,
            for_s=_duration(rule.get("for"), f"{here}, for"),
            labels=_labels(rule.get("labels"), f"{here}: labels"),
            index=position,
        ),
        uid=str(rule.get("uid", "")),
        condition=condition,
        data=data,
        no_data_state=str(rule.get("noDataState") or "NoData"),
        exec_err_state=str(rule.get("execErrState") or "Error"),
        is_paused=bool(rule.get("isPaused", False)),
    )


def _grafana_query(entry: Any, where: str, index: int) -> GrafanaQuery:
    if not isinstance(entry, dict) or "refId" not in entry:
        raise RuleFileError(f"{where}: data[{index}] needs a `refId`.")
    model = _mapping(entry.get("model"), f"{where}: data[{index}].model")
    window = _mapping(entry.get("relativeTimeRange"), f"{where}: data[{index}].relativeTimeRange")
    uid = str(entry.get("datasourceUid") or _model_uid(model))
    return GrafanaQuery(
        ref_id=str(entry["refId"]),
        datasource_uid=uid,
        model=model,
        relative_from_s=float(window.get("from", 600) or 0),
        relative_to_s=float(window.get("to", 0) or 0),
    )


def _model_uid(model: Mapping[str, Any]) -> str:
    source = model.get("datasource")
    if isinstance(source, dict):
        return str(source.get("uid", ""))
    return ""
