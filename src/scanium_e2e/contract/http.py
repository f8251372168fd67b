"""The HTTP layer counted against the ledger (`http`)."""

from __future__ import annotations

from scanium_e2e.contract.fields import Names, Section, Text


class HttpRoute(Section):
    """How the backend labels one kind of the ledger's requests in its HTTP metrics."""

    method: Text
    route: Text


class HttpRoutes(Section):
    """`chat`: every chat request; `unknown`: every request to a path no route serves, one
    value for all of them."""

    chat: HttpRoute
    unknown: HttpRoute


class HttpSpec(Section):
    """The HTTP layer against the ledger (the `http_requests`/`http_duration` families):
    the method and route template the backend labels each of the ledger's requests with,
    and the routes others request (scrapes, probes) whose counts are not the ledger's."""

    routes: HttpRoutes
    others: Names = ()

    @property
    def chat(self) -> HttpRoute:
        """The route every chat request is labelled with."""
        return self.routes.chat

    @property
    def unknown(self) -> HttpRoute:
        """The route every request to an unserved path is labelled with."""
        return self.routes.unknown
