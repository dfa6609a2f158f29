"""Admin forms: thin shells for CSRF and rendering; the services validate."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from ..models import UNIT_KINDS
from ..rules.roles import ADMIN, ROLE_LABELS, SUPERVISOR, UNIT, VIEWER

# Least privilege first: a new user starts as a read-only viewer unless the admin chooses more.
ROLE_CHOICES = [SelectChoice(r, ROLE_LABELS[r]) for r in (VIEWER, UNIT, SUPERVISOR, ADMIN)]
DEFAULT_ROLE = VIEWER


class _UnitChoices:
    def set_units(self, units) -> None:
        self.unit.choices = [SelectChoice("", "（无）")] + [
            SelectChoice(str(u.id), u.short_name + ("" if u.active else "（已停用）")) for u in units]


class UserCreateForm(FlaskForm, _UnitChoices):
    username = StringField("用户名", validators=[Length(max=80, message="用户名最多 80 个字符")])
    display_name = StringField("显示名称", validators=[Length(max=120, message="显示名称最多 120 字")])
    email = StringField("邮箱", validators=[Length(max=200, message="邮箱过长")])
    role = SelectField("角色", choices=ROLE_CHOICES, default=DEFAULT_ROLE, validate_choice=False)
    unit = SelectField("所属单位", choices=[], validate_choice=False)
    password = PasswordField("初始密码", validators=[Length(max=200, message="密码过长")])


class UserEditForm(FlaskForm, _UnitChoices):
    display_name = StringField("显示名称", validators=[Length(max=120, message="显示名称最多 120 字")])
    email = StringField("邮箱", validators=[Length(max=200, message="邮箱过长")])
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False)
    unit = SelectField("所属单位", choices=[], validate_choice=False)


class PasswordResetForm(FlaskForm):
    password = PasswordField("新密码", validators=[Length(max=200, message="密码过长")])
    confirm = PasswordField("确认新密码", validators=[Length(max=200, message="密码过长")])


class UnitForm(FlaskForm):
    full_name = StringField("单位全称", validators=[Length(max=200, message="单位全称最多 200 字")])
    short_name = StringField("单位简称", validators=[Length(max=100, message="单位简称最多 100 字")])
    kind = SelectField("类别", choices=[SelectChoice(k, k) for k in UNIT_KINDS], validate_choice=False)
    emails = TextAreaField("联络员邮箱", validators=[Length(max=5000, message="内容过长")])
    active = BooleanField("启用", default=True)
    law_enforcement = BooleanField("行政执法部门（属于“各行政执法部门”）", default=False)


class UnitGroupForm(FlaskForm):
    name = StringField("名称", validators=[Length(max=100, message="名称最多 100 字")])
    aliases = TextAreaField("别名", validators=[Length(max=2000, message="内容过长")])
    rule = SelectField("成员规则", choices=[SelectChoice(k, v) for k, v in (
        ("kind", "按单位类别"), ("law_enforcement", "全部行政执法部门"), ("members", "指定成员"))],
        validate_choice=False)
    kind = SelectField("单位类别", choices=[SelectChoice(k, k) for k in UNIT_KINDS], validate_choice=False)
    members = SelectMultipleField("成员单位", choices=[], validate_choice=False, coerce=str)
    note = TextAreaField("说明", validators=[Length(max=2000, message="内容过长")])

    def set_units(self, units) -> None:
        self.members.choices = [SelectChoice(str(u.id), u.short_name + ("" if u.active else "（已停用）"))
                                for u in units]
