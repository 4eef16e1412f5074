"""Local Telegram Bot API simulator."""
