"""Schemathesis checks for Rapport's GraphQL contract.

Schemathesis' built-in GraphQL check treats every execution error as a server
fault; Rapport answers refusals (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...) as
GraphQL errors by design. This check asserts what the contract promises instead:
no 5xx, and every error carries an `extensions.code` that is not INTERNAL.
"""

import schemathesis


@schemathesis.check
def rapport_error_contract(ctx, response, case):
    assert response.status_code < 500, f"server error: HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError as exc:  # pragma: no cover - reported as a failure
        raise AssertionError(f"response is not JSON: {exc}") from exc
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, f"error without extensions.code: {error}"
        assert code != "INTERNAL", f"internal error: {error}"


# Rapport's custom scalars, so operations with required Date, DateTime,
# Decimal or JSON arguments are fuzzed too instead of being skipped as errors.
# Valid and invalid values both: the server must answer each with a code.
import datetime  # noqa: E402

from hypothesis import strategies as st  # noqa: E402
from schemathesis.graphql import nodes, scalar  # noqa: E402

_text = st.text(max_size=12)
scalar("Date", st.one_of(st.dates().map(lambda d: d.isoformat()), _text).map(nodes.String))
scalar(
    "DateTime",
    st.one_of(
        st.datetimes(timezones=st.just(datetime.timezone.utc)).map(
            lambda d: d.isoformat()
        ),
        _text,
    ).map(nodes.String),
)
scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str), _text
    ).map(nodes.String),
)
scalar("JSON", _text.map(nodes.String))
