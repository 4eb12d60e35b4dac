"""One way to take each kind of number in every form: amounts (MoneyField, the one money
parser), rates (RateField, basis points) and quantities (CountField, CountSelectField),
each refusing several values sent under one name, as the cart always did."""

import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form

import shop
from shop.web.fields import CountField, CountSelectField, MoneyField, RateField

pytestmark = pytest.mark.pages  # how fields read what is posted (SQLite pass only)


def _form_classes():
    for module in pkgutil.iter_modules(shop.__path__):
        try:
            forms = importlib.import_module(f"shop.{module.name}.forms")
        except ModuleNotFoundError:
            continue
        for _name, cls in inspect.getmembers(forms, inspect.isclass):
            if issubclass(cls, Form) and cls.__module__ == forms.__name__:
                yield cls


def _fields(cls):
    return {name: field for name, field in vars(cls).items()
            if hasattr(field, "field_class")} | {
        name: field for base in cls.__mro__[1:] for name, field in vars(base).items()
        if hasattr(field, "field_class") and name not in vars(cls)}


NUMBERS = (CountField, CountSelectField, MoneyField, RateField)


def test_every_number_field_of_every_form_refuses_several_values(app):
    """Quantities, amounts and rates: a value sent twice is an error, never the first."""
    tried = []
    for cls in _form_classes():
        for name, unbound in _fields(cls).items():
            if "quantity" in name:
                assert unbound.field_class in (CountField, CountSelectField), (cls, name)
            if not issubclass(unbound.field_class, NUMBERS):
                continue
            with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
                kwargs = {"meta": {"csrf": False}} if issubclass(cls, FlaskForm) else {}
                form = cls(formdata=MultiDict([(name, "1"), (name, "2")]), **kwargs)
                field = getattr(form, name)
                if isinstance(field, CountSelectField):
                    field.choices = [(1, "1"), (2, "2")]
                field.validate(form)
                assert "Send one number." in " ".join(map(str, field.errors)), (cls, name)
            tried.append(f"{cls.__name__}.{name}")
    assert {"AddForm.quantity", "FlashBuyForm.quantity", "RedeemForm.quantity",
            "AdjustForm.amount", "SkuForm.price", "RateForm.level1_bp"} <= set(tried), tried


def test_every_rate_and_amount_field_uses_the_one_parser(app):
    for cls in _form_classes():
        for name, unbound in _fields(cls).items():
            if name.endswith("_bp"):
                assert unbound.field_class is RateField, (cls, name)
            if name.endswith("_minor") or name in ("amount", "price", "cap", "fee", "min_spend"):
                assert unbound.field_class is MoneyField, (cls, name)


@pytest.mark.parametrize("raw,error", [("1e3", "whole number"), ("12.5", "whole number"),
                                       ("10001", "whole number"), ("-1", "whole number")])
def test_a_rate_is_a_whole_number_of_basis_points(app, raw, error):
    with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
        class F(Form):
            rate = RateField()
        form = F(formdata=MultiDict([("rate", raw)]))
        form.validate()
        assert error in " ".join(form.rate.errors)
