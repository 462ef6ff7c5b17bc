"""Run the fake Telegram Bot API and the fake WeChat API until Ctrl-C, and print the
environment that points `memberbot serve` at them:

    .venv/bin/python -m tests.fakes [--telegram-port 8081] [--wechat-port 8082]
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from tests.fakes import telegram_api, wechat_api


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes")
    parser.add_argument("--telegram-port", type=int, default=0)
    parser.add_argument("--wechat-port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per API call")
    args = parser.parse_args()
    telegram = telegram_api.FakeTelegram(latency=args.latency, port=args.telegram_port).start()
    wechat = wechat_api.FakeWeChatAPI(latency=args.latency, port=args.wechat_port).start()
    print(f"export TELEGRAM_BOT_TOKEN='{telegram.token}'")
    print(f"export TELEGRAM_API_BASE_URL={telegram.base_url}")
    print("export TELEGRAM_WEBHOOK_SECRET=local-secret")
    print(f"export WECHAT_APP_ID={wechat.app_id} WECHAT_APP_SECRET={wechat.secret}")
    print(f"export WECHAT_TOKEN={wechat_api.TOKEN}")
    print(f"export WECHAT_API_BASE_URL={wechat.base_url}")
    print("export NO_PROXY=127.0.0.1,localhost", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    telegram.stop()
    wechat.stop()


if __name__ == "__main__":
    main()
