"""Constructors with the exact semantics of PyTorch's, Keras's and optax's schedules.

``jaxsched.compat.torch.<Class>(lr, **kwargs)`` equals ``torch.optim.lr_scheduler.<Class>``
after ``t`` calls of ``step()``; ``jaxsched.compat.keras.<Class>(**kwargs)`` equals
``keras.optimizers.schedules.<Class>(**kwargs)(t)``; ``jaxsched.compat.optax.<function>(...)``
equals ``optax.<function>(...)(t)``. All return ordinary jaxsched schedules: jittable,
vmappable, usable in optax.
"""

from jaxsched.compat import keras, optax, timm, torch, transformers

__all__ = ["keras", "optax", "timm", "torch", "transformers"]
