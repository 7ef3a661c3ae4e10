"""CloudWatch Synthetics canary: GET the endpoint's health URL and fail unless it answers 2xx.

Standard library only (the syn-python-selenium runtime provides no other HTTP client); the URL
comes from the canary's environment (``TARGET_URL``).
"""

import os
import urllib.request
from typing import Any


def handler(event: Any, context: Any) -> str:
    url = os.environ["TARGET_URL"]
    request = urllib.request.Request(url, headers={"User-Agent": "reskflow-canary"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{url} answered {response.status}")
    return "ok"
