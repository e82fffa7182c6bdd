"""Retrying transient failures with exponential backoff, on tenacity.

``retry`` is the seed's decorator, usable on any function; ``RetryPolicy`` is the
same rule as an object the runner applies to the failed rows of a slice. Both
take ``sleep`` so tests never wait for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from docbatch.errors import is_transient

if TYPE_CHECKING:  # tenacity is imported when a retry is first set up
    import tenacity

P = ParamSpec("P")
T = TypeVar("T")

OnRetry = Callable[[BaseException, int], object]


def retry(
    max_attempts: int = 3,
    backoff_factor: float = 2.0,
    exceptions: tuple[type[BaseException], ...] = (Exception,),
    on_retry: OnRetry | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_delay_s: float = 60.0,
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Retry the decorated function on ``exceptions`` with exponential backoff.

    Waits ``backoff_factor ** (attempt - 1)`` seconds after each failed attempt
    (capped at ``max_delay_s``), calls ``on_retry(exc, attempt)`` before each
    new try, and re-raises the last exception once ``max_attempts`` are spent.

    >>> calls = []
    >>> @retry(max_attempts=3, backoff_factor=2.0, exceptions=(OSError,), sleep=lambda s: None)
    ... def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise OSError("try again")
    ...     return "done"
    >>> flaky(), len(calls)
    ('done', 3)
    """
    import tenacity

    retrying = _retrying(
        max_attempts,
        backoff_factor,
        tenacity.retry_if_exception_type(exceptions),
        on_retry,
        sleep,
        max_delay_s,
    )

    def decorate(func: Callable[P, T]) -> Callable[P, T]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return retrying(func, *args, **kwargs)

        return wrapper

    return decorate


def _retrying(
    max_attempts: int,
    backoff_factor: float,
    predicate: tenacity.retry_base,
    on_retry: OnRetry | None,
    sleep: Callable[[float], None],
    max_delay_s: float,
) -> tenacity.Retrying:
    import tenacity

    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(exc, state.attempt_number)

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=_backoff(backoff_factor, max_delay_s),
        retry=predicate,
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )


def _backoff(factor: float, max_delay_s: float) -> Callable[[tenacity.RetryCallState], float]:
    def wait(state: tenacity.RetryCallState) -> float:
        return backoff_delay(factor, state.attempt_number, max_delay_s)

    return wait


def backoff_delay(factor: float, attempt: int, max_delay_s: float = 60.0) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    >>> [backoff_delay(2.0, n) for n in (1, 2, 3)]
    [1.0, 2.0, 4.0]
    """
    return float(min(max_delay_s, factor ** (attempt - 1)))


@dataclass(frozen=True)
class RetryPolicy:
    """How a run retries: transient errors only, up to ``max_attempts`` in all."""

    max_attempts: int = 3
    backoff_factor: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    max_delay_s: float = 60.0

    def pause(self, attempt: int) -> None:
        """Sleep before the attempt that follows failed attempt ``attempt``."""
        self.sleep(backoff_delay(self.backoff_factor, attempt, self.max_delay_s))

    def call(self, func: Callable[..., T], *args: Any, on_retry: OnRetry | None = None) -> T:
        """``func(*args)``, retried while it raises a transient error (see ``is_transient``).

        The first attempt runs directly: tenacity (whose import is about 30 ms, more where
        tornado is installed) takes over only once an attempt has failed.
        """
        try:
            return func(*args)
        except Exception as exc:
            if self.max_attempts <= 1 or not is_transient(exc):
                raise
            failed: list[BaseException] = [exc]
        import tenacity

        def attempt() -> T:
            if failed:  # tenacity's first attempt is the one that just failed
                raise failed.pop()
            return func(*args)

        retrying = _retrying(
            self.max_attempts,
            self.backoff_factor,
            tenacity.retry_if_exception(is_transient),
            on_retry,
            self.sleep,
            self.max_delay_s,
        )
        return retrying(attempt)
