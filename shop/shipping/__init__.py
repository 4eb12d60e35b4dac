"""Shipping templates (运费模板): what an order pays for delivery. Each product ships by a
template (or the default one); a template has a flat fee and a free-shipping threshold,
and regions (provinces) with their own. The rule, and how one order with products of
several templates is charged, is in services.py and the README."""
