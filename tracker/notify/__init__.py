"""Building and delivering emails: MIME messages and transports (SMTP or .eml files).

The outbox (``tracker.notify.outbox``) decides *what* to send and *when*; this
package only turns one outbox row into a message and hands it to a transport.
"""
from .message import build_message, split_addresses
from .transport import DeliveryError, FileTransport, SMTPTransport, transport_from_config

__all__ = ["build_message", "split_addresses", "DeliveryError", "FileTransport", "SMTPTransport",
           "transport_from_config"]
