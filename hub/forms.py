"""What every domain's forms.py shares: a posted form's French field errors, gathered and raised all at once.

A domain's forms.py reads the posted strings, notes a message for each field at fault, and builds its typed
command only when there is none: the page then comes back with what was typed and every message beside its field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hub.errors import Invalid

SOME_FIELDS_INVALID = "Certains champs sont invalides."


class FieldErrors(dict[str, str]):
    """Field name -> French message, in the order the rules found them (a later rule may reword a field's)."""

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Keep the field messages of an Invalid raised inside (a rule shared with other paths, such as an
        import's); an Invalid naming no field is about the whole form, and goes on."""
        try:
            yield
        except Invalid as error:
            if not error.fields:
                raise
            self.update(error.fields)

    def raise_if_any(self, message: str = SOME_FIELDS_INVALID) -> None:
        """Every field's message at once, or nothing when the form is good."""
        if self:
            raise Invalid(message, dict(self))
