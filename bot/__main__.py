from bot import logmask
from bot.cli import main

if __name__ == "__main__":
    logmask.install()  # every tandem command run as a process (handoff service included): no personal data in logs
    raise SystemExit(main())
