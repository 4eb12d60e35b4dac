"""Pages with several forms: only the form that was posted reads the request.

Flask-WTF fills every FlaskForm made during a POST from request.form (its formdata is
"automatic"), whatever `data=` or `obj=` it is given. On a page that shows several forms
(a flash session and its "add item" form; a coupon and its "grant" form; a product and
its images; a store and its staff...), posting one of them and building the others the
plain way would build those from the POST too: the fields that POST did not carry come
back empty, checkboxes unticked, choices lost, and saving that form next would write the
blanks (a review found a flash session switched off that way).

The convention, for every page of the shop:

- the form that was posted is made as usual: `SomeForm()` (it keeps what was typed, and
  its errors);
- every other form on the page is made with `stored(SomeForm, obj=row)` or
  `stored(SomeForm, data={...})`: from what is stored, never from the request
  (formdata=None). A form class's `of(row)` classmethod, where there is one, does the same.
- a GET builds every form with `stored(...)` too (nothing was posted).

A search typed in a picker and submitted with its form (no JavaScript) is not a save:
shop.web.picking takes care that the form comes back with the matches and no errors on
its other fields.
"""

from __future__ import annotations

from typing import TypeVar

from flask_wtf import FlaskForm

F = TypeVar("F", bound=FlaskForm)


def stored(form_class: type[F], /, **kwargs) -> F:
    """`form_class` filled from `obj=`/`data=`/keyword values only, never from the posted
    request: the way to show a form that was not the one submitted."""
    kwargs["formdata"] = None
    return form_class(**kwargs)
