"""Forms of the 报表 page: thin shells for CSRF and rendering; the services validate."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length


class BulletinForm(FlaskForm):
    month = StringField("月份", validators=[Length(max=20, message="月份格式应为 YYYY-MM")])
    plan = HiddenField()


class WeightsForm(FlaskForm):
    on_time = StringField("按期完成率权重")
    reporting = StringField("按时报送率权重")
    overdue = StringField("逾期控制权重")
    per_return = StringField("每次退回扣分")
    per_extension = StringField("每次获批延期扣分")
