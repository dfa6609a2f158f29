"""The login form; the text rule (no control characters, one line) is a field error on the form."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..web.request import PlainText


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=80), PlainText()])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200), PlainText()])
