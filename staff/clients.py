"""Who is calling: the client address, believing X-Forwarded-For only from the reverse
proxies named in `sign_in.trusted_proxies` (anyone else could write any address there)."""

from __future__ import annotations

from starlette.requests import Request

MAX_ADDRESS = 64


def address(request: Request, trusted: list[str]) -> str:
    """The caller's address: the peer, or behind trusted proxies the nearest hop that
    is not one of them."""
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted:
        return peer[:MAX_ADDRESS]
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted:
            return hop[:MAX_ADDRESS]
    return peer[:MAX_ADDRESS]
