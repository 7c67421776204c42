"""The web's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from .accounts import EMAIL_RE, password_problem

EMAIL_MESSAGE = "Enter an email address, like name@hospital.org."


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message=EMAIL_MESSAGE),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=1024)],
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message=EMAIL_MESSAGE),
            Regexp(EMAIL_RE, message=EMAIL_MESSAGE),
        ],
    )


class ResetForm(FlaskForm):
    # Read-only: tells password managers which account the new password belongs to.
    username = StringField("Account")
    password = PasswordField("New password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
    )

    def __init__(self, email: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = email
        self.username.data = email

    def validate_password(self, field) -> None:
        problem = password_problem(field.data or "", self.account_email)
        if problem:
            raise ValidationError(problem)
