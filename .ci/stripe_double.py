"""localstripe for the default run (`make run`): a Stripe API double on loopback only,
with its webhook pointed at the shop. Not used in production, where the shop talks to
Stripe itself (STRIPE_API_BASE unset).

    python .ci/stripe_double.py --port 8420 --webhook http://127.0.0.1:5000/stripe/webhook --secret whsec_...
"""

import argparse
import logging

from aiohttp import web
from localstripe.resources import store
from localstripe.server import app
from localstripe.webhooks import register_webhook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook", required=True, help="the shop's webhook URL")
    parser.add_argument("--secret", required=True, help="the webhook signing secret")
    args = parser.parse_args()
    store.try_load_from_disk()  # payments of earlier runs, as the demo database has them
    register_webhook("shop", args.webhook, args.secret, None)
    logging.basicConfig(level=logging.INFO, format="localstripe: %(message)s")
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
