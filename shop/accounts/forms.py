from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, Regexp

from shop.web.fields import PersonName


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=128)])
    next = HiddenField()


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            InputRequired(),
            Length(max=254),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
        ],
    )
    nickname = StringField(_l("Nickname"), validators=[InputRequired(), Length(min=1, max=32),
                                                       PersonName()])
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(),
            Length(min=8, max=128, message=_l("Use 8 to 128 characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    invite = StringField(_l("Invitation code (optional)"), validators=[
        Optional(), Regexp(r"^[2-9A-HJ-NP-Za-hj-np-z]{8}$",
                           message=_l("A referral code is 8 letters and digits."))])
    next = HiddenField()


class NewPasswordForm(FlaskForm):
    """A password chosen from a reset link, or set by an account that has none."""

    password = PasswordField(_l("New password"), validators=[
        InputRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords differ."))])


class PasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=128)])


class ProfileForm(FlaskForm):
    nickname = StringField(_l("Nickname"), validators=[InputRequired(), Length(min=1, max=32),
                                                       PersonName()])
    phone = StringField(
        _l("Phone (optional)"),
        validators=[
            Optional(),
            Regexp(
                r"^\+?[0-9][0-9 -]{5,18}[0-9]$",
                message=_l("Enter a phone number such as 13800138000."),
            ),
        ],
    )
    avatar = FileField(_l("Avatar"))


class PhoneForm(FlaskForm):
    """The number a sign-in code is sent to (checked by shop.accounts.phone)."""

    phone = StringField(_l("Mobile number"), validators=[InputRequired(), Length(max=32)])
    next = HiddenField()


class PhoneCodeForm(FlaskForm):
    phone = HiddenField(validators=[InputRequired(), Length(max=32)])
    code = StringField(_l("Sign-in code"), validators=[  # not "Code": a product's code in zh
        InputRequired(), Regexp(r"^\s*[0-9０-９]{6}\s*$", message=_l("The code is 6 digits."))])
    next = HiddenField()


class EmailForm(FlaskForm):
    """An address to send a link to: a sign-in link, a password reset, a confirmation."""

    email = EmailField(_l("Email"), validators=[
        InputRequired(), Length(max=254),
        Email(message=_l("Enter a valid email address."), check_deliverability=False)])
    next = HiddenField()


class PasskeyNameForm(FlaskForm):
    """A name to tell a passkey apart by, checked before the phone makes it (the options
    are asked for with it: static/js/passkeys.js)."""

    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=40),
                                                          PersonName()])


class PasskeyForm(FlaskForm):
    """The passkey the browser made (static/js/passkeys.js fills `credential` with its
    JSON, checked by shop.accounts.passkeys)."""

    credential = HiddenField(validators=[InputRequired(), Length(max=20_000)])


class PasskeySignInForm(FlaskForm):
    """A passkey's answer to the sign-in challenge (static/js/passkeys.js)."""

    credential = HiddenField(validators=[InputRequired(), Length(max=20_000)])
    next = HiddenField()
