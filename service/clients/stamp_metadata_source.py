"""stampMetadata.json from PASSPORT_PUBLIC_URL, fetched with a hard deadline and cached per
process.

The reference fetches without a timeout and caches in Redis for an hour; here a copy lives for an
hour in the process, a fetch never holds a request longer than `timeout_s`, and a failed refresh
serves the copy it has, trying the source again at most once per `retry_after_failure_s`. One
fetch at a time: a request arriving while one is under way waits for that one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urljoin, urlsplit

from service.domain.stamp_metadata import StampMetadata, UnusableMetadata, read_document

log = logging.getLogger("service.stamp_metadata")

DOCUMENT_NAME = "stampMetadata.json"
# The real document is about 100 kB; anything far larger is not it.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class StampMetadataSource:
    def __init__(
        self,
        public_url: str,
        *,
        timeout_s: float = 2.0,
        max_age_s: float = 3600.0,
        retry_after_failure_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.public_url = public_url
        self.url = urljoin(public_url, DOCUMENT_NAME)
        self._timeout_s = timeout_s
        self._max_age_s = max_age_s
        self._retry_after_failure_s = retry_after_failure_s
        self._clock = clock
        self._lock = threading.Lock()
        self._copy: StampMetadata | None = None
        self._copy_taken_at = 0.0
        self._next_attempt_at = 0.0
        self._in_flight: Future[StampMetadata] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def current(self) -> StampMetadata | None:
        """The document, or None when there is no copy and the source cannot give one now."""
        with self._lock:
            now = self._clock()
            copy = self._copy
            if copy is not None and (
                now - self._copy_taken_at < self._max_age_s or now < self._next_attempt_at
            ):
                return copy
            future = self._start_fetch()
        try:
            fresh = future.result(timeout=self._timeout_s)
        except FutureTimeout:
            log.error("stamp metadata source too slow", extra={"url": self.url})
            fresh = None
        except Exception:
            log.exception("stamp metadata fetch failed", extra={"url": self.url})
            fresh = None
        if fresh is not None:
            return fresh  # `_fetch` has stored it
        with self._lock:
            self._next_attempt_at = self._clock() + self._retry_after_failure_s
            return self._copy

    def _start_fetch(self) -> Future[StampMetadata]:
        if self._in_flight is None or self._in_flight.done():
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="stamp-metadata"
                )
            self._in_flight = self._executor.submit(self._fetch)
        return self._in_flight

    def _fetch(self) -> StampMetadata:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise UnusableMetadata(f"PASSPORT_PUBLIC_URL is not an http(s) URL: {self.url}")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self.url, headers={"Accept": "application/json"}
        )
        # The socket timeout ends a stalled transfer in the worker; the caller's wait is
        # bounded separately by `timeout_s`.
        with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
            body = response.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise UnusableMetadata(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
        metadata = read_document(json.loads(body), self.public_url)
        with self._lock:
            # Kept even when the request that asked for it has stopped waiting.
            self._copy, self._copy_taken_at = metadata, self._clock()
        return metadata
