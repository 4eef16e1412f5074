"""Local Telegram Bot API simulator: run the real bot with no token and no network.

sim = BotApiSimulator()
await sim.start()
# run the bot with base_url=sim.base_url, base_file_url=sim.base_file_url, any "123:ABC" token
sim.send_text(1001, "/start")
(reply,) = await sim.wait_for_messages(1001)
sim.press_button(1001, "Đồng ý")
await sim.wait_idle()
assert sim.errors == []
await sim.stop()
"""

from bot.simulator.server import BotApiSimulator, Limits
from bot.simulator.state import SentMessage
from bot.simulator.zalo import ZaloDelivery, ZaloLimits, ZaloSent, ZaloSimulator

__all__ = [
    "BotApiSimulator",
    "Limits",
    "SentMessage",
    "ZaloDelivery",
    "ZaloLimits",
    "ZaloSent",
    "ZaloSimulator",
]
