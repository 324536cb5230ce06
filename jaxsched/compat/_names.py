"""Errors of the compat constructors in their own words.

A constructor such as ``torch.ExponentialLR`` builds its schedule with a
jaxsched factory (`jaxsched.exponential`), whose errors name that factory and
its parameters (``exponential: decay_rate must be > 0``). `speaks_as` rewrites
them with the constructor's name and parameter names
(``torch.ExponentialLR: gamma must be > 0``), and has warnings raised inside
name them too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from jaxsched._check import speaker

_NUMPY_BROADCAST = ("operands could not be broadcast", "shape mismatch: objects cannot be")
# A factory's message, or a message of a schedule built directly in a constructor, which
# names the constructor (``torch.StepLR: decay_rate must be > 0``) and the field.
_FACTORY_MESSAGE = re.compile(r"(?P<factory>[A-Za-z_.]+): (?P<param>[A-Za-z_]+)(?P<rest>.*)", re.S)


def speaks_as(label: str, **names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: a factory's `ValueError` inside reads as ``label``'s, with ``names``
    mapping the factory's parameter names to the constructor's.

    >>> import jaxsched
    >>> @speaks_as("torch.ExponentialLR", init_value="lr", decay_rate="gamma")
    ... def ExponentialLR(lr, gamma):
    ...     return jaxsched.exponential(init_value=lr, decay_steps=1, decay_rate=gamma)
    >>> ExponentialLR(0.1, gamma=0.0)
    Traceback (most recent call last):
    ...
    ValueError: torch.ExponentialLR: gamma must be > 0, got 0
    """

    def wrap(constructor: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(constructor)
        def speaking(*args: Any, **kwargs: Any) -> Any:
            # Warnings are raised where they arise, so they read the outermost speaker.
            token = speaker.set((label, names)) if speaker.get() is None else None
            try:
                return constructor(*args, **kwargs)
            except ValueError as e:
                if str(e).startswith(_NUMPY_BROADCAST):  # NumPy's, deriving on the host
                    raise ValueError(
                        f"{label}: the hyperparameters' batch shapes do not broadcast ({e})"
                    ) from None
                match = _FACTORY_MESSAGE.fullmatch(str(e))
                if match is None:  # the constructor's own message
                    raise
                param = names.get(match["param"], match["param"])
                raise ValueError(f"{label}: {param}{match['rest']}") from None
            finally:
                if token is not None:
                    speaker.reset(token)

        return speaking

    return wrap
