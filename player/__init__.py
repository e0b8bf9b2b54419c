"""The player: a Telegram Mini App that runs a class on the phone, with a countdown, the
voice and the pictures (README, "The player")."""
