"""Robot settings forms: thin shells for CSRF and rendering; ``tracker.notify.channels`` validates."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import Length


class RobotForm(FlaskForm):
    url = StringField("Webhook 地址", validators=[Length(max=1000, message="地址过长")])
    # Never pre-filled: the stored secret is not sent back to the browser. Blank keeps it.
    secret = PasswordField("签名密钥", validators=[Length(max=200, message="密钥过长")])
    send_reminders = BooleanField("提醒（逾期、临期、月报）", default=True)
    send_urges = BooleanField("催办", default=True)
    send_events = BooleanField("事件通知（退回、销号、延期）", default=True)
    send_digest = BooleanField("督办日报", default=True)


class ButtonForm(FlaskForm):
    """CSRF-protected button (delete, send a test message)."""
