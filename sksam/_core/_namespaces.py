"""Objects that hold an array namespace, pickled with the namespace by name.

An array namespace (``array_api_strict``, ``array_api_compat.torch``, ...) is a
module, and modules do not pickle. A fitted model keeps its decomposition and
operators (for ``staged_predict``), which hold the namespace of their arrays; those
classes pickle it as its module name and import it again on loading, so a model
fitted on torch tensors pickles as one fitted on numpy arrays does.
"""

import importlib
import types

__all__ = ["HoldsNamespace"]


class _ModuleName(str):
    """The name of a module attribute in a pickled state."""


class HoldsNamespace:
    """Mixin: module-valued attributes are pickled by name."""

    def __getstate__(self):
        state = self.__dict__.copy()
        for name, value in state.items():
            if isinstance(value, types.ModuleType):
                state[name] = _ModuleName(value.__name__)
        return state

    def __setstate__(self, state):
        for name, value in state.items():
            if isinstance(value, _ModuleName):
                state[name] = importlib.import_module(value)
        self.__dict__.update(state)
