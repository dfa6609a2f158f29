from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length


class PasswordChangeForm(FlaskForm):
    current = PasswordField("当前密码", validators=[Length(max=200, message="密码过长")])
    new = PasswordField("新密码", validators=[Length(max=200, message="密码过长")])
    confirm = PasswordField("确认新密码", validators=[Length(max=200, message="密码过长")])


class TokenCreateForm(FlaskForm):
    expires_days = StringField("有效天数", validators=[Length(max=10, message="有效天数过长")])
