"""The mutation catalog: deliberately broken variants of the stack, and which checks of this
suite each must fail, with the (hop, kind) of the finding that names it. Checks are named as
the registry names them (scanium_e2e.checks.registry: `name`, or `name[param]` for one
family, label, path or panel); loading the catalog turns them into test ids.
tests/library/test_mutation_catalog.py checks, without Docker, that every check and panel
below is one pytest collects and that every patch still applies to the fixture source. The
machinery that runs them is scanium_e2e.mutation (`scanium-e2e selftest`, `pytest e2e/
--scanium-mutations`).
"""

from __future__ import annotations

from scanium_e2e.mutation import ALLOY_CONFIG, DASHBOARD, Kill, Patch, Variant, every

# The suite's checks (the registry's names), for the variants' expectations.
UP = "up-is-1"
ALLOY_TARGET = "alloy-target-healthy"
EXEMPT_METRICS = "exempt-paths-plain-http[/metrics]"
CHAT_REFUSED = "chat-refused-over-plain-http"
ANSWERED = "answered-as-planned"
REQUESTS = "request-counts"
CACHE_HIT = "cache-hit-split"
HIT_RATE = "cache-hit-rate"
LATENCY = "latency-count"
BUCKETS = "latency-buckets"
P95 = "p95-computable"
LATENCY_PLACED = "latency-placed"
TOKEN_SUMS = "token-sums"
TOKEN_COUNTS = "token-counts"
TOKEN_JOURNAL = "token-sums-as-reported"
TOKEN_BUCKETS = "token-buckets"
ERRORS = "error-counts"
ERROR_LABELS = "error-labels"
LABEL_LEAKS = "no-secret-in-store-labels"
METRICS_LEAKS = "no-secret-in-metrics"
BACKEND_LOG_LEAKS = "no-secret-in-logs[backend]"
SERIES_BUDGET = "series-budget"
ALLOY_LOG_LEAKS = "no-secret-in-logs[alloy]"
TLS_PROXY = "chat-behind-tls-proxy"
# The OTLP road (e2e/test_otlp.py).
OTLP_CALLS = "otlp-llm-calls"
OTLP_DURATIONS = "otlp-llm-durations"
OTLP_TOKENS = "otlp-llm-tokens"
RATE_LIMIT_GAUGES = "otlp-rate-limit-gauges"
SPAN_CALLS = "otlp-span-calls"
SPAN_DURATIONS = "otlp-span-durations"
# The HTTP layer against the ledger (e2e/test_http.py).
HTTP_REQUESTS = "http-requests"
HTTP_DURATIONS = "http-durations"
HTTP_COUNTS = (HTTP_REQUESTS, HTTP_DURATIONS)


def labels(family: str) -> str:
    """The check of one family's label set."""
    return f"series-labels[{family}]"


def values(label: str) -> str:
    """The check of one label's vocabulary (`unlisted`: labels without one)."""
    return f"label-values[{label}]"


# The contract's families and labels (fixtures/contract.json): their tests read the store.
FAMILIES = (
    "requests", "latency", "tokens", "errors", "cache_hit_rate", "http_requests", "http_duration",
)  # fmt: skip
VOCABULARY = (
    "provider", "status", "cache_hit", "token_type", "error_type", "reason_code", "method",
    "route", "status_code", "unlisted",
)  # fmt: skip


def otlp_labels(family: str) -> str:
    """The check of one OTLP family's label set."""
    return f"otlp-series-labels[{family}]"


def otlp_values(label: str) -> str:
    """The check of one OTLP label's vocabulary (`unlisted`: labels without one)."""
    return f"otlp-label-values[{label}]"


# The contract's OTLP families (and target_info) and the labels they declare.
OTLP_METRIC_FAMILIES = (
    "requests", "duration", "tokens", "rate_limit_requests", "rate_limit_tokens",
)  # fmt: skip
OTLP_FAMILIES = (*OTLP_METRIC_FAMILIES, "span_calls", "span_duration", "target_info")
OTLP_VOCABULARY = (
    "model", "status", "error_type", "token_type", "limit_type", "service_name", "span_name",
    "span_kind", "status_code", "unlisted",
)  # fmt: skip


def exempt(path: str) -> str:
    """The check of one plain-HTTP path."""
    return f"exempt-paths-plain-http[{path}]"


def panel(key: str) -> str:
    """The check of one dashboard panel (`<id>-<title>`)."""
    return f"panel-has-data[{key}]"


PANELS_ALL = tuple(
    panel(key)
    for key in (
        "1-Request Rate",
        "2-p95 Latency",
        "3-Error Rate",
        "4-Tokens/Min",
        "5-Request Rate by Model",
        "6-Latency Percentiles",
        "7-Token Breakdown by type",
        "8-Requests per Interval by Status",
        "9-Errors by Type",
    )
)
# The fixture dashboard's panels over what the backend pushes (the OTLP road).
OTLP_PANELS = tuple(
    panel(key)
    for key in ("11-Remaining Requests", "12-Remaining Tokens", "13-Chat Requests by Span Status")
)
# Every test that reads the OTLP road's data from the store.
OTLP_READERS = (
    OTLP_CALLS, OTLP_DURATIONS, OTLP_TOKENS, RATE_LIMIT_GAUGES, SPAN_CALLS, SPAN_DURATIONS,
    *map(otlp_labels, OTLP_FAMILIES), *map(otlp_values, OTLP_VOCABULARY), *OTLP_PANELS,
)  # fmt: skip
# A test of the OTLP road whose family has no series says what it depended on.
OTLP_NOTHING_TO_JUDGE: Kill = (None, "depends-on")


# Every test that reads this run's data from the store: a pipeline cut before the store
# fails them all, each naming the hop.
STORE_READERS = (
    UP, ALLOY_TARGET, REQUESTS, CACHE_HIT, HIT_RATE, LATENCY, BUCKETS, LATENCY_PLACED, P95,
    TOKEN_SUMS, TOKEN_COUNTS, TOKEN_BUCKETS, TOKEN_JOURNAL, ERRORS, ERROR_LABELS, LABEL_LEAKS,
    SERIES_BUDGET, *PANELS_ALL, *map(labels, FAMILIES), *map(values, VOCABULARY), *HTTP_COUNTS,
)  # fmt: skip


# A pipeline cut at the scrape or after it fails every test that reads the store, each
# naming the hop. Tests of what was sent and answered, and of leaks in /metrics and logs,
# still run (the traffic goes out even when no scrape holds its first wave).
PIPELINE_CUT = STORE_READERS
# The dashboard's $provider variable reads label_values of the requests counter: without
# that counter's provider label every panel filtered by provider is empty.
PANELS_BY_PROVIDER = tuple(
    panel(key)
    for key in (
        "2-p95 Latency",
        "3-Error Rate",
        "4-Tokens/Min",
        "6-Latency Percentiles",
        "7-Token Breakdown by type",
        "9-Errors by Type",
    )
)
NO_PROVIDER_VALUE: Kill = (None, "regex-matches-no-value")
# A panel grouped by a label its metric never carries (dashboards' "misgrouped").
MISGROUPED_PANEL: Kill = (None, "grouping-label-missing")


HTTP_403_AT_SCRAPE: Kill = (1, "http-status")
NEVER_CREATED: Kill = (1, "metric-never-created")
# A label's vocabulary test that finds no value of it: the family carrying it is gone.
NO_VALUE_TO_JUDGE: Kill = (None, "depends-on")
MISCOUNTED_HITS: Kill = (5, "cache-hits-miscounted")
OUTSIDE_VOCABULARY: Kill = (1, "value-outside-vocabulary")
# A count grouped by a label the closed world finds defective says it depends on that.
DEPENDS_ON_LABELS: Kill = (None, "depends-on")
# A split read from a counter that went down during the traffic says it depends on that.
DEPENDS_ON_RESET: Kill = (None, "depends-on")
NEVER_SEEN: Kill = (None, "metric-never-seen")
LEAKED: Kill = (None, "secret-leaked")
VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="seed-bug",
        failure_class="scrape",
        breaks="/metrics not exempt from HTTPS enforcement (the seed incident)",
        # The leak scan of /metrics cannot read it either: the same 403, the same hop.
        kills={
            **every((*PIPELINE_CUT, EXEMPT_METRICS, METRICS_LEAKS), HTTP_403_AT_SCRAPE),
        },
        overrides={"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz"},
    ),
    Variant(
        name="no-tokens",
        failure_class="dashboard-empty",
        breaks="token metrics not recorded",
        kills={
            **every((TOKEN_SUMS, TOKEN_COUNTS, TOKEN_JOURNAL, labels("tokens")), NEVER_CREATED),
            values("token_type"): NO_VALUE_TO_JUDGE,
            TOKEN_BUCKETS: (1, "metric-not-exposed"),
            **every((panel("4-Tokens/Min"), panel("7-Token Breakdown by type")), NEVER_SEEN),
        },
        backend_patches=(
            Patch(
                "metrics.py",
                '"""Observe the usage of one successful LLM call."""\n',
                '"""Observe the usage of one successful LLM call."""\n        return\n',
            ),
        ),
    ),
    Variant(
        name="wrong-metric-name",
        failure_class="dashboard-empty",
        breaks="requests counter exposed under a wrong name",
        kills={
            # (its values are still judged, on the renamed series: they are right)
            **every((REQUESTS, CACHE_HIT, labels("requests")), NEVER_CREATED),
            **every(PANELS_BY_PROVIDER, NO_PROVIDER_VALUE),
            **every(
                (
                    panel("1-Request Rate"),
                    panel("5-Request Rate by Model"),
                    panel("8-Requests per Interval by Status"),
                ),
                NEVER_SEEN,
            ),
        },
        backend_patches=(
            Patch(
                "metrics.py",
                '"scanium_assistant_requests_total",',
                '"scanium_assistant_request_total",',
            ),
        ),
    ),
    Variant(
        name="no-provider-label",
        failure_class="accounting",
        breaks="requests counter without its provider label",
        # The count grouped by provider names the missing label as its cause.
        kills={
            REQUESTS: DEPENDS_ON_LABELS,
            labels("requests"): (1, "label-missing"),
            **every(PANELS_BY_PROVIDER, NO_PROVIDER_VALUE),
            # "by Model" sums by provider: a line, but not the breakdown it promises.
            panel("5-Request Rate by Model"): MISGROUPED_PANEL,
        },
        backend_patches=(
            Patch("metrics.py", '["provider", "status", "cache_hit"],', '["status", "cache_hit"],'),
            Patch(
                "metrics.py",
                "self.assistant_requests.labels(provider, status,",
                "self.assistant_requests.labels(status,",
            ),
        ),
    ),
    Variant(
        name="api-key-in-label",
        failure_class="leak",
        breaks="the caller's API key leaks into the route label",
        # The route label is also in the backend's request log line; and no longer a template.
        kills={
            **every((LABEL_LEAKS, METRICS_LEAKS, BACKEND_LOG_LEAKS), LEAKED),
            values("route"): OUTSIDE_VOCABULARY,
            # The HTTP counts group by route: they name the route's defect as their cause.
            **every(HTTP_COUNTS, DEPENDS_ON_LABELS),
        },
        backend_patches=(
            Patch(
                "http_observer.py",
                "route = route_template(self._routes, scope)",
                "route = route_template(self._routes, scope) + '|' + "
                "dict(scope['headers']).get(b'x-api-key', b'').decode()",
            ),
        ),
    ),
    Variant(
        name="raw-url-route",
        failure_class="leak",
        breaks="the raw URL (path and query) as the route label",
        kills={
            **every((LABEL_LEAKS, METRICS_LEAKS, BACKEND_LOG_LEAKS), LEAKED),
            values("route"): OUTSIDE_VOCABULARY,
            # The HTTP counts group by route: they name the route's defect as their cause.
            **every(HTTP_COUNTS, DEPENDS_ON_LABELS),
        },
        backend_patches=(
            Patch(
                "http_observer.py",
                "route = route_template(self._routes, scope)",
                "route = scope['path'] + '?' + scope['query_string'].decode()",
            ),
        ),
    ),
    Variant(
        name="http-status-wrong",
        failure_class="accounting",
        breaks="the HTTP metrics label every answer status_code=200, whatever it was",
        kills=every(HTTP_COUNTS, (1, "http-status-differs")),
        backend_patches=(
            Patch(
                "http_observer.py",
                "self._metrics.record_http_request(method, route, status, duration_ms)",
                "self._metrics.record_http_request(method, route, 200, duration_ms)",
            ),
        ),
    ),
    Variant(
        name="http-route-per-path",
        failure_class="accounting",
        breaks="the HTTP metrics label a path no route serves with the path itself",
        # Every path a scanner sends becomes a series; the vocabulary's route pattern admits
        # paths, so only the count against the ledger's paths shows it.
        kills=every(HTTP_COUNTS, (1, "route-per-path")),
        backend_patches=(
            Patch(
                "http_observer.py",
                "route = route_template(self._routes, scope)",
                "route = route_template(self._routes, scope)\n"
                "        route = scope['path'] if route == UNMATCHED_ROUTE else route",
            ),
        ),
    ),
    Variant(
        name="requests-counter-reset",
        failure_class="accounting",
        breaks="the requests counter is re-created during the traffic (as a restart would): "
        "the store shows it going down",
        kills={REQUESTS: (5, "count-short"), CACHE_HIT: DEPENDS_ON_RESET},
        backend_patches=(
            Patch(
                "metrics.py",
                "        self.assistant_errors.labels(provider, error_type, reason_code).inc()\n",
                "        self.assistant_errors.labels(provider, error_type, reason_code).inc()\n"
                "        self._errors_seen = getattr(self, '_errors_seen', 0) + 1\n"
                "        if self._errors_seen == 2:  # the first LLM failure of wave 2\n"
                "            self.assistant_requests.clear()\n",
            ),
        ),
    ),
    Variant(
        name="alloy-job-label",
        failure_class="scrape",
        breaks="Alloy scrapes the backend under another job name",
        kills=every(PIPELINE_CUT, (2, "wrong-job")),
        overrides={"SCANIUM_E2E_SCRAPE_JOB": "backend-renamed"},
    ),
    Variant(
        name="slow-metrics",
        failure_class="scrape",
        breaks="the backend's /metrics answers in 2.5 s, slower than Alloy's scrape timeout "
        "(1 s in the test stack)",
        # Final once two scrapes in a row failed the same way, not at the data deadline.
        kills=every(PIPELINE_CUT, (2, "scrape-failed")),
        backend_patches=(
            Patch(
                "app.py",
                "        return Response(metrics.exposition(), media_type=EXPOSITION_CONTENT_TYPE)",
                "        import asyncio\n\n"
                "        await asyncio.sleep(2.5)\n"
                "        return Response(metrics.exposition(), media_type=EXPOSITION_CONTENT_TYPE)",
            ),
        ),
    ),
    Variant(
        name="remote-write-url",
        failure_class="remote-write",
        breaks="Alloy's remote_write points at a wrong URL",
        # The OTLP road writes through the same remote write: its tests name the same hop.
        kills={
            **every((*PIPELINE_CUT, *OTLP_READERS), (3, "samples-failed")),
            **every(map(otlp_values, OTLP_VOCABULARY), OTLP_NOTHING_TO_JUDGE),
        },
        overrides={"SCANIUM_E2E_REMOTE_WRITE_URL": "http://mimir:9009/api/v1/pushh"},
    ),
    Variant(
        name="store-rejects",
        failure_class="store-rejects",
        breaks="the store rejects samples (per-tenant series limit of 1)",
        kills={
            **every((*PIPELINE_CUT, *OTLP_READERS), (4, "samples-discarded")),
            **every(map(otlp_values, OTLP_VOCABULARY), OTLP_NOTHING_TO_JUDGE),
        },
        overrides={"SCANIUM_E2E_STORE_MAX_SERIES": "1"},
    ),
    Variant(
        name="buckets-differ",
        failure_class="accounting",
        breaks="the latency histogram's buckets differ from the contract's",
        kills={BUCKETS: (5, "buckets-differ")},
        backend_patches=(
            Patch(
                "metrics.py",
                "LATENCY_BUCKETS_MS: Final = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)",
                "LATENCY_BUCKETS_MS: Final = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000)",
            ),
        ),
    ),
    Variant(
        name="latency-in-seconds",
        failure_class="accounting",
        breaks="latency observed in seconds where the contract says milliseconds",
        # Counts, bounds and p95 all hold: only where each observation lands shows it.
        kills={LATENCY_PLACED: (5, "observations-misplaced")},
        backend_patches=(
            Patch(
                "metrics.py",
                "self.assistant_latency.labels(provider, status).observe(latency_ms)",
                "self.assistant_latency.labels(provider, status).observe(latency_ms / 1000)",
            ),
        ),
    ),
    Variant(
        name="token-buckets-differ",
        failure_class="accounting",
        breaks="the token histogram's buckets differ from the contract's",
        kills={TOKEN_BUCKETS: (5, "buckets-differ")},
        backend_patches=(
            Patch(
                "metrics.py",
                "TOKEN_BUCKETS: Final = (50, 100, 250, 500, 1000, 2000, 4000)",
                "TOKEN_BUCKETS: Final = (64, 128, 256, 512, 1024, 2048, 4096)",
            ),
        ),
    ),
    Variant(
        name="no-cache-hit-label",
        failure_class="accounting",
        breaks="the requests counter lacks the contract's cache_hit label",
        # Counted by cache_hit, every request sits under cache_hit="" instead of "false".
        kills={
            labels("requests"): (1, "label-missing"),
            values("cache_hit"): NO_VALUE_TO_JUDGE,
            CACHE_HIT: DEPENDS_ON_LABELS,
            # The panel sums by (status, cache_hit): its cache_hit breakdown is gone.
            panel("8-Requests per Interval by Status"): MISGROUPED_PANEL,
        },
        backend_patches=(
            Patch("metrics.py", '["provider", "status", "cache_hit"],', '["provider", "status"],'),
            Patch(
                "metrics.py",
                'self.assistant_requests.labels(provider, status, "true" if cache_hit else '
                '"false").inc()',
                "self.assistant_requests.labels(provider, status).inc()",
            ),
        ),
    ),
    Variant(
        name="cache-hit-inverted",
        failure_class="accounting",
        breaks="cache_hit says the opposite of whether the answer came from the cache",
        kills={CACHE_HIT: MISCOUNTED_HITS},
        backend_patches=(
            Patch(
                "metrics.py",
                '"true" if cache_hit else "false"',
                '"false" if cache_hit else "true"',
            ),
        ),
    ),
    Variant(
        name="https-off",
        failure_class="http-policy",
        breaks="chat is allowed over plain HTTP (HTTPS enforcement off)",
        kills={CHAT_REFUSED: (1, "https-not-enforced")},
        backend_patches=(
            Patch(
                "https_policy.py",
                "active=config.production and config.enforce_https,",
                "active=False,",
            ),
        ),
    ),
    Variant(
        name="secret-in-log",
        failure_class="leak",
        breaks="the backend writes the caller's API key to its log",
        kills={BACKEND_LOG_LEAKS: LEAKED},
        backend_patches=(
            Patch(
                "http_observer.py",
                '                        "method": method,\n',
                '                        "method": method,\n'
                "                        \"key\": dict(scope['headers']).get(b'x-api-key', "
                "b'').decode(),\n",
            ),
        ),
    ),
    Variant(
        name="probes-need-https",
        failure_class="http-policy",
        breaks="/healthz and /readyz demand HTTPS (a probe over plain HTTP gets 403)",
        kills=every((exempt("/healthz"), exempt("/readyz")), (1, "http-status")),
        overrides={"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/metrics"},
    ),
    Variant(
        name="validation-422",
        failure_class="http-policy",
        breaks="an invalid chat body is answered 422 instead of the contract's 400",
        kills={ANSWERED: (1, "answer-not-planned")},
        backend_patches=(
            Patch(
                "app.py",
                'return error_response(400, "VALIDATION_ERROR", str(failure))',
                'return error_response(422, "VALIDATION_ERROR", str(failure))',
            ),
        ),
    ),
    Variant(
        name="auth-off",
        failure_class="http-policy",
        breaks="the backend accepts any API key",
        # The requests the plan sends with a wrong key are served: besides the probe and the
        # answers, every exact count of the assistant holds more than the ledger explains
        # (the cache split and the hit-rate gauge judge against what was counted: they hold).
        kills={
            TLS_PROXY: (None, "http-status"),
            ANSWERED: (1, "answer-not-planned"),
            **every(
                (REQUESTS, LATENCY, TOKEN_SUMS, TOKEN_COUNTS, TOKEN_JOURNAL),
                (5, "counts-unexplained"),
            ),
            # The OTLP road counts the same LLM calls; the chat spans of those requests say
            # OK where the ledger's answers were refusals.
            **every((OTLP_CALLS, OTLP_DURATIONS, OTLP_TOKENS), (5, "counts-unexplained")),
            **every((SPAN_CALLS, SPAN_DURATIONS), (5, "count-moved")),
        },
        backend_patches=(
            Patch(
                "auth.py",
                "if not api_key or not _matches_any(api_key, config.api_keys):",
                "if not api_key:",
            ),
        ),
    ),
    Variant(
        name="per-request-label",
        failure_class="leak",
        breaks="the token histogram carries a label unique to each request (unbounded)",
        kills={
            SERIES_BUDGET: (5, "series-over-budget"),
            labels("tokens"): (1, "label-unexpected"),
        },
        backend_patches=(
            Patch(
                "metrics.py",
                '["provider", "token_type"],',
                '["provider", "token_type", "call"],',
            ),
            Patch(
                "metrics.py",
                '"""Observe the usage of one successful LLM call."""\n',
                '"""Observe the usage of one successful LLM call."""\n'
                "        call = str(self._cache_lookups)\n",
            ),
            Patch(
                "metrics.py",
                'self.assistant_tokens.labels(provider, "input")',
                'self.assistant_tokens.labels(provider, "input", call)',
            ),
            Patch(
                "metrics.py",
                'self.assistant_tokens.labels(provider, "output")',
                'self.assistant_tokens.labels(provider, "output", call)',
            ),
            Patch(
                "metrics.py",
                'self.assistant_tokens.labels(provider, "total")',
                'self.assistant_tokens.labels(provider, "total", call)',
            ),
        ),
    ),
    Variant(
        name="dashboard-grouping",
        failure_class="dashboard-query",
        breaks="a dashboard panel groups by a label its metric does not carry (model)",
        # The panel still shows a line (one series without `model`): only the grouping check
        # sees that the breakdown its title promises is not there.
        kills={panel("5-Request Rate by Model"): MISGROUPED_PANEL},
        dashboard_patch=Patch(
            DASHBOARD.name,
            "sum by (provider) (rate(scanium_assistant_requests_total",
            "sum by (model) (rate(scanium_assistant_requests_total",
        ),
    ),
    # Closed-world classes: each passed the suite before it judged every label, value and path.
    Variant(
        name="key-fragment-label",
        failure_class="leak",
        breaks="the requests counter has an extra label holding the first 8 characters of "
        "the caller's API key",
        # sum by (...) hides the label from every count: only the closed world sees it.
        kills={
            labels("requests"): (1, "label-unexpected"),
            **every((LABEL_LEAKS, METRICS_LEAKS), LEAKED),
        },
        backend_patches=(
            Patch(
                "metrics.py",
                '["provider", "status", "cache_hit"],',
                '["provider", "status", "cache_hit", "client"],',
            ),
            Patch(
                "metrics.py",
                'self.assistant_requests.labels(provider, status, "true" if cache_hit else '
                '"false").inc()',
                'self.assistant_requests.labels(provider, status, "true" if cache_hit else '
                '"false", self.client).inc()',
            ),
            Patch(
                "metrics.py",
                "self._cache_hits = 0\n",
                'self._cache_hits = 0\n        self.client = ""\n',
            ),
            Patch(
                "app.py",
                "        answer = await assistant.answer(",
                "        metrics.client = caller.api_key[:8]\n"
                "        answer = await assistant.answer(",
            ),
        ),
    ),
    Variant(
        name="provider-text-label",
        failure_class="leak",
        breaks="the errors counter has an extra label holding the provider's raw error text",
        # The stub's error text quotes a planted canary: the label carries it to the store.
        kills={
            labels("errors"): (1, "label-unexpected"),
            **every((LABEL_LEAKS, METRICS_LEAKS), LEAKED),
        },
        backend_patches=(
            Patch(
                "metrics.py",
                '["provider", "error_type", "reason_code"],',
                '["provider", "error_type", "reason_code", "message"],',
            ),
            Patch(
                "metrics.py",
                "def record_assistant_error(self, provider: str, error_type: str, "
                "reason_code: str) -> None:",
                "def record_assistant_error(self, provider: str, error_type: str, "
                'reason_code: str, message: str = "") -> None:',
            ),
            Patch(
                "metrics.py",
                "self.assistant_errors.labels(provider, error_type, reason_code).inc()",
                "self.assistant_errors.labels(provider, error_type, reason_code, message).inc()",
            ),
            Patch(
                "assistant.py",
                "provider_id, failure.error_type, failure.reason_code\n",
                "provider_id, failure.error_type, failure.reason_code, "
                "str(failure.__cause__ or failure)\n",
            ),
        ),
    ),
    Variant(
        name="frozen-hit-rate",
        failure_class="accounting",
        breaks="the cache-hit-rate gauge is never updated (stays 0 after cache hits)",
        kills={HIT_RATE: (5, "gauge-wrong")},
        backend_patches=(
            Patch(
                "metrics.py",
                "self.cache_hit_rate.set(self._cache_hits / self._cache_lookups)",
                "self.cache_hit_rate.set(0)",
            ),
        ),
    ),
    Variant(
        name="hits-labelled-false",
        failure_class="accounting",
        breaks='requests answered from the cache are counted cache_hit="false"',
        kills={CACHE_HIT: MISCOUNTED_HITS},
        backend_patches=(Patch("metrics.py", '"true" if cache_hit else "false"', '"false"'),),
    ),
    Variant(
        name="total-observes-input",
        failure_class="accounting",
        breaks="token_type=total observes the input tokens instead of input + output",
        # Final as soon as a complete scrape after the traffic is in the store, not at 60 s.
        kills=every((TOKEN_SUMS, TOKEN_JOURNAL), (5, "count-short")),
        backend_patches=(
            Patch(
                "metrics.py",
                'self.assistant_tokens.labels(provider, "total").observe(total)',
                'self.assistant_tokens.labels(provider, "total").observe(input_tokens)',
            ),
        ),
    ),
    Variant(
        name="error-latency-unobserved",
        failure_class="accounting",
        breaks="failed requests are not observed in the latency histogram",
        kills={LATENCY: (5, "count-short")},
        backend_patches=(
            Patch(
                "metrics.py",
                "self.assistant_latency.labels(provider, status).observe(latency_ms)",
                'status == "error" or self.assistant_latency.labels(provider, status)'
                ".observe(latency_ms)",
            ),
        ),
    ),
    # The OTLP road's failure classes: what a backend pushes, and how Alloy carries it.
    Variant(
        name="otlp-delta",
        failure_class="accounting",
        breaks="the backend exports delta temporality, whose sums and histograms Alloy's "
        "otelcol.exporter.prometheus drops with only a debug log",
        kills={
            **every(
                (
                    OTLP_CALLS,
                    OTLP_DURATIONS,
                    OTLP_TOKENS,
                    *map(otlp_labels, OTLP_METRIC_FAMILIES[:3]),
                ),
                (2, "otlp-points-dropped"),
            ),
            **every(
                map(otlp_values, ("status", "error_type", "token_type")), OTLP_NOTHING_TO_JUDGE
            ),
        },
        overrides={"SCANIUM_E2E_OTEL_TEMPORALITY": "delta"},
    ),
    Variant(
        name="otlp-unit-changed",
        failure_class="accounting",
        breaks="the LLM-call duration is recorded with unit ms, so the exporter stores it "
        "under another name",
        kills={
            OTLP_DURATIONS: (1, "otlp-name-differs"),
            otlp_labels("duration"): (1, "otlp-name-differs"),
        },
        backend_patches=(
            Patch(
                "telemetry.py",
                '"openai_request_duration_seconds",\n            unit="s",',
                '"openai_request_duration_seconds",\n            unit="ms",',
            ),
        ),
    ),
    Variant(
        name="otlp-endpoint-mismatch",
        failure_class="otlp-road",
        breaks="the backend exports to a port no OTLP receiver listens on (4318, the "
        "receiver is on 4319)",
        kills={
            **every(
                (*OTLP_READERS[:6], *map(otlp_labels, OTLP_FAMILIES), *OTLP_PANELS),
                (1, "otlp-nothing-received"),
            ),
            **every(map(otlp_values, OTLP_VOCABULARY), OTLP_NOTHING_TO_JUDGE),
        },
        overrides={"SCANIUM_E2E_OTLP_ENDPOINT": "http://alloy:4318"},
    ),
    Variant(
        name="otlp-metrics-unwired",
        failure_class="otlp-road",
        breaks="the OTLP receiver's output wires traces only: the backend's metrics go nowhere",
        kills={
            **every(
                (
                    OTLP_CALLS,
                    OTLP_DURATIONS,
                    OTLP_TOKENS,
                    RATE_LIMIT_GAUGES,
                    *map(otlp_labels, OTLP_METRIC_FAMILIES),
                    *OTLP_PANELS[:2],
                ),
                (2, "otlp-output-unwired"),
            ),
            **every(
                map(otlp_values, ("model", "status", "error_type", "token_type", "limit_type")),
                OTLP_NOTHING_TO_JUDGE,
            ),
        },
        alloy_patch=Patch(
            ALLOY_CONFIG.name,
            "    metrics = [otelcol.processor.batch.backend.input]\n"
            "    traces  = [otelcol.processor.batch.backend.input]\n",
            "    traces  = [otelcol.processor.batch.backend.input]\n",
        ),
    ),
    Variant(
        name="otlp-resource-missing",
        failure_class="otlp-road",
        breaks="the backend's OTLP resource has no service.name or service.instance.id, so "
        "its series carry another job and no instance",
        kills={
            **every(
                (*OTLP_READERS[:6], *map(otlp_labels, OTLP_FAMILIES)),
                (1, "otlp-resource-differs"),
            ),
            **every(map(otlp_values, OTLP_VOCABULARY), OTLP_NOTHING_TO_JUDGE),
        },
        overrides={
            "SCANIUM_E2E_OTEL_SERVICE_NAME": "",
            "SCANIUM_E2E_OTEL_RESOURCE_ATTRIBUTES": "",
        },
    ),
    Variant(
        name="otlp-secret-attribute",
        failure_class="leak",
        breaks="the backend's OTLP resource carries the first 8 characters of its API key "
        "as an attribute (target_info shows it)",
        kills={
            otlp_labels("target_info"): (1, "label-unexpected"),
            LABEL_LEAKS: LEAKED,
        },
        backend_patches=(
            Patch(
                "telemetry.py",
                '            "service.name": config.otel_service_name,\n',
                '            "service.name": config.otel_service_name,\n'
                '            "scanium.client": config.api_keys[0][:8],\n',
            ),
        ),
    ),
    Variant(
        name="otlp-dashboard-instrument-name",
        failure_class="dashboard-query",
        breaks="a panel queries the rate-limit gauge by its instrument's name and a provider "
        "label (Scanium's own Remaining Requests panel), not as the store holds it",
        # The finding names the series the store holds: ..._ratio, without `provider`.
        kills={panel("11-Remaining Requests"): NEVER_SEEN},
        dashboard_patch=Patch(
            DASHBOARD.name,
            "max by (model) (openai_rate_limit_requests_remaining_ratio)",
            r"max by (model) (openai_rate_limit_requests_remaining{provider=~\"$provider\"})",
        ),
    ),
    Variant(
        name="failure-counted-twice",
        failure_class="accounting",
        breaks="a request whose LLM call failed is counted twice in the requests counter",
        # The cache split is judged against the counter's own total: only the count fails.
        kills={REQUESTS: (5, "counts-unexplained")},
        backend_patches=(
            Patch(
                "metrics.py",
                '"true" if cache_hit else "false").inc()',
                '"true" if cache_hit else "false").inc(2 if status == "error" else 1)',
            ),
        ),
    ),
)
# Scanium's own cache label: after the first cache hit every request says cache_hit="true".
# In the harness (exact counts) and as a deviation (external mode, where the split must only
# reach the plan's: it used to wait out the data deadline there).
CUMULATIVE_CACHE_LABEL = Variant(
    name="cumulative-cache-label",
    failure_class="accounting",
    breaks="the cache label is cumulative: after the first cache hit every request is counted "
    'cache_hit="true" (Scanium\'s)',
    kills={CACHE_HIT: MISCOUNTED_HITS},
    backend_patches=(
        Patch(
            "metrics.py",
            '"true" if cache_hit else "false"',
            '"true" if cache_hit or self._cache_hits else "false"',
        ),
    ),
)
# Deviations real backends have, each a variant the whole suite runs against (in external
# mode, e2e/test_deviations.py): exactly the checks of the deviation must fail, naming it,
# and a contract that accepts it must pass with "accepted by contract" lines.
FAILURES_AS_SUCCESS = Patch(
    "assistant.py",
    'provider_id, "error", False, (self._timer() - started) * 1000',
    'provider_id, "success", False, (self._timer() - started) * 1000',
)
NO_ERROR_COUNTER = (
    # Never registered, so /metrics has not even its HELP line; and never incremented.
    Patch(
        "metrics.py",
        '"Assistant provider failures",\n'
        '            ["provider", "error_type", "reason_code"],\n'
        "            registry=self.registry,",
        '"Assistant provider failures",\n'
        '            ["provider", "error_type", "reason_code"],\n'
        "            registry=None,",
    ),
    Patch(
        "metrics.py",
        '"""Count one provider failure by its bounded type and reason code."""\n',
        '"""Count one provider failure by its bounded type and reason code."""\n        return\n',
    ),
)
DEVIATIONS: tuple[Variant, ...] = (
    Variant(
        name="failures-as-success",
        failure_class="accounting",
        breaks="an LLM failure is answered with a 200 fallback and counted as status=success",
        kills=every((REQUESTS, LATENCY), (5, "failures-counted-as-success")),
        backend_patches=(FAILURES_AS_SUCCESS,),
    ),
    Variant(
        name="no-error-counter",
        failure_class="accounting",
        breaks="scanium_assistant_errors_total is never created",
        kills=every(
            (ERRORS, ERROR_LABELS, panel("3-Error Rate"), panel("9-Errors by Type")),
            (None, "metric-never-created"),
        ),
        backend_patches=NO_ERROR_COUNTER,
    ),
    # The one users meet: both at once (a 200 fallback counted as a success, no counter).
    Variant(
        name="success-no-errors",
        failure_class="accounting",
        breaks=(
            "an LLM failure is answered with a 200 fallback, counted as status=success, "
            "and scanium_assistant_errors_total is never created"
        ),
        kills={
            **every((REQUESTS, LATENCY), (5, "failures-counted-as-success")),
            **every(
                (ERRORS, ERROR_LABELS, panel("3-Error Rate"), panel("9-Errors by Type")),
                (None, "metric-never-created"),
            ),
        },
        backend_patches=(FAILURES_AS_SUCCESS, *NO_ERROR_COUNTER),
    ),
    CUMULATIVE_CACHE_LABEL,
)


# Suite tests that no variant of a stack can kill, and why.
UNMUTABLE = {
    "fixture-dashboard-seed-panels": "reads the fixture "
    "dashboard file, not the stack: no stack variant can change it",
    exempt("/health"): "the stack's readiness probe reads /health over plain HTTP: a "
    "variant without it never becomes ready, so the suite never runs",
    ALLOY_LOG_LEAKS: "Alloy's log: Alloy logs no request data, so a variant needs an Alloy "
    "config that makes it log a planted secret; none is built yet",
}
# The harness runs these: the shipped variants plus the deviation real backends have.
HARNESS: tuple[Variant, ...] = (*VARIANTS, DEVIATIONS[0], CUMULATIVE_CACHE_LABEL)
