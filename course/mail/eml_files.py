"""The local default: every mail as its own .eml file in MAIL_FILE_PATH (instance/outbox/).

Flask-Mailman's file backend appends all messages of a connection to one .log file; one file per
message opens with a double click in any mail program."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime

from flask_mailman.backends.file import EmailBackend as FileEmailBackend

log = logging.getLogger(__name__)


class EmailBackend(FileEmailBackend):
    def send_messages(self, email_messages) -> int:
        written = 0
        for message in email_messages:
            name = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
            path = os.path.join(self.file_path, name)
            with open(path, "xb") as handle:
                handle.write(message.message().as_bytes(linesep="\r\n"))
            log.info("Mail geschreven naar %s", path)
            written += 1
        return written
