"""Constructors with the exact semantics of PyTorch's and Keras's schedulers.

``jaxsched.compat.torch.<Class>(lr, **kwargs)`` equals ``torch.optim.lr_scheduler.<Class>``
after ``t`` calls of ``step()``; ``jaxsched.compat.keras.<Class>(**kwargs)`` equals
``keras.optimizers.schedules.<Class>(**kwargs)(t)``. Both return ordinary jaxsched
schedules: jittable, vmappable, usable in optax.
"""

from jaxsched.compat import keras, torch

__all__ = ["keras", "torch"]
