"""The checking side: `Verifier(store, trust, index).verify(source)` (or `verify(...)`
for one call) answers one `Verification` for any photo or clip: a verdict, its reasons,
the manifest and the evidence."""

from .reasons import Reason
from .result import Verdict, Verification
from .verify import Verifier, verify

__all__ = ["Reason", "Verdict", "Verification", "Verifier", "verify"]
