"""The forms of the sign-in, password and user-administration pages, one pydantic model each.

FastAPI reads a posted form into a model (``Annotated[Model, Form()]``), so a page function takes
one ``form`` instead of a parameter per field, and each field's limit is written once: a user name
of 80 characters and a role of 16 (what ``worklist.users`` stores), a password of 1,024 (any
passphrase fits; an attacker cannot make the hashing read megabytes). Answers are those of one
``Form`` parameter per field: a missing or empty required field is a 422 naming the field, an empty
optional one takes its default, and fields the model does not name (the CSRF token) are left to
the CSRF check.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

UserName = Annotated[str, Field(max_length=80)]
RoleName = Annotated[str, Field(max_length=16)]
Password = Annotated[str, Field(max_length=1024)]


class SignInForm(BaseModel):
    """Empty fields are a failed sign-in (one message for every failure), not a 422."""

    username: UserName = ""
    password: Password = ""
    next: str = Field(default="/app/", max_length=2000)


class PasswordChangeForm(BaseModel):
    current: Password
    new: Password
    repeat: Password


class NewUserForm(BaseModel):
    name: UserName
    role: RoleName
    password: Password


class PasswordResetForm(BaseModel):
    password: Password


class RoleForm(BaseModel):
    role: RoleName
