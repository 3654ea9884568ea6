"""Cap the native threads a model call may use.

scikit-learn's gradient boosting predicts with an OpenMP thread pool as wide as the machine. A web
service already runs requests concurrently, so each call spreading over every core only makes calls
wait for each other: on a busy 2-core machine single-row p99 went from about 6 ms to over 100 ms.
OpenMP's limit is per calling thread, so it is applied around each call, in the thread that makes it.
"""

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController


class NativeThreads:
    """Applies ``limit`` OpenMP threads around a block, in the calling thread."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._controller: ThreadpoolController | None = None

    def capped(self) -> AbstractContextManager[object]:
        # Introspect the loaded runtimes once, at the first call: by then the model has loaded OpenMP.
        if self._controller is None:
            self._controller = ThreadpoolController()
        return self._controller.limit(limits=self._limit, user_api="openmp")
