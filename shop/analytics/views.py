"""The beacon every shopper page posts once it has loaded (tracking.beacon_values)."""

from __future__ import annotations

from flask import request

from shop.analytics import services
from shop.analytics.blueprint import bp
from shop.analytics.forms import HitForm
from shop.extensions import limiter
from shop.web import render_error, viewer_id
from shop.web.visitor import visitor_id

BEACON_LIMIT = "600 per minute"  # one per page view; many phones share an address (NAT)


@bp.post("/t")
@limiter.limit(BEACON_LIMIT)
def hit():
    form = HitForm(request.form)
    if not form.validate():
        return render_error(None, 400)
    values = dict(form.values)
    services.record_hit(visitor_id(), viewer_id(), values.pop("kind"), **values)
    return "", 204
