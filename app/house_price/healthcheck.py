"""Container health check: exit 0 when the local service answers /health with 200.

Used by the image's ``HEALTHCHECK`` (the slim base has no curl)::

    python -m house_price.healthcheck [URL]
"""

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

DEFAULT_URL = "http://127.0.0.1:8000/health"
TIMEOUT_SECONDS = 2.0


def healthy(url: str = DEFAULT_URL) -> bool:
    """True when ``url`` answers 200 within the timeout."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.status == 200
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return 0 if healthy(args[0] if args else DEFAULT_URL) else 1


if __name__ == "__main__":
    sys.exit(main())
