"""An aiosmtpd handler for the crash test in mail.rs: the first message's DATA is
never answered (the test kills the sender while it waits, so that message is not
delivered), and every later message is delivered to MAILDIR as aiosmtpd's Mailbox
handler does. MARKER is written when the first DATA arrives.

    python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_hold.HoldFirst MAILDIR MARKER
"""

import asyncio
import mailbox
import os


class HoldFirst:
    def __init__(self, maildir, marker):
        self.mailbox = mailbox.Maildir(maildir)
        self.marker = marker

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("HoldFirst needs MAILDIR and MARKER")
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        if not os.path.exists(self.marker):
            with open(self.marker, "wb") as marker:
                marker.write(envelope.original_content)
            # aiosmtpd cancels this when the client's connection goes away.
            await asyncio.sleep(3600)
        self.mailbox.add(envelope.original_content)
        return "250 Message accepted for delivery"
