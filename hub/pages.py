"""Server-rendered pages of the hub: sign-in, two-factor, account, members, journal, users."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Template

from hub import accounts, auth, invitations, journal, sessions
from hub.accounts import ROLE_LABELS, Actor
from hub.auth import SESSION_COOKIE, CurrentActor, RuntimeDep
from hub.errors import Conflict, Invalid
from hub.runtime import Runtime
from hub.schemas import (
    BackForm,
    CodeForm,
    CoordinatorForm,
    EmailForm,
    EnrolForm,
    InvitationAcceptForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    TokenForm,
)
from hub.security import totp_qr_svg, totp_uri
from hub.tables import Structure, User
from hub.web import page, redirect

AnyRequest = Request[Any, Any, Any]


def _safe_next(target: str) -> str:
    """Only same-site paths: no open redirect through ?suivant=."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _set_session(response: Response[Any], rt: Runtime, token: str) -> Response[Any]:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=rt.settings.secure_cookies,
        samesite="lax",
        path="/",
        max_age=rt.settings.session_max_hours * 3600,
    )
    return response


DEVICE_COOKIE = "maillage_device"
DEVICE_COOKIE_DAYS = 180


def _set_device(response: Response[Any], rt: Runtime, request: AnyRequest, email: str) -> Response[Any]:
    """This browser knew the account's password: its next tries skip the account's slowdown (hub.throttle)."""
    response.set_cookie(
        DEVICE_COOKIE,
        sessions.device_cookie_for(rt, email, request.cookies.get(DEVICE_COOKIE, "")),
        httponly=True,
        secure=rt.settings.secure_cookies,
        samesite="lax",
        path="/",
        max_age=DEVICE_COOKIE_DAYS * 86400,
    )
    return response


def _revoked_note(revoked: int) -> str:
    if not revoked:
        return ""
    if revoked == 1:
        return " Ce rôle demande la double authentification : le jeton d'API créé sans elle a été révoqué."
    return f" Ce rôle demande la double authentification : les {revoked} jetons d'API créés sans elle ont été révoqués."


def _client_key(request: AnyRequest) -> str:
    return request.client.host if request.client else "unknown"


def _back(target: str, structure_id: int) -> str:
    """Back to the page the button was on (a same-site path), else the structure's members page."""
    safe = _safe_next(target[:200])
    return safe if safe != "/" else f"/structures/{structure_id}/membres#invitations"


class HomePages(Controller):
    guards = [auth.public]
    include_in_schema = False

    @get("/", operation_id="homePage")
    async def home(self, request: AnyRequest) -> Template:
        """Home: what Maillage is, and the signed-in user's next steps."""
        actor = auth.current_actor(request)
        structures: list[dict[str, Any]] = []
        if actor and actor.roles:
            structures = (
                await Structure.select(Structure.id, Structure.name, Structure.kind)
                .where(Structure.id.is_in(list(actor.roles)))
                .order_by(Structure.name)
            )
        return page(request, "home.html", structures=structures, role_labels=ROLE_LABELS)


class SignInPages(Controller):
    guards = [auth.public]
    include_in_schema = False

    @get("/connexion", operation_id="loginPage")
    async def login_form(self, request: AnyRequest, suivant: FromQuery[str] = "/") -> Template:
        """The sign-in form."""
        return page(request, "login.html", suivant=_safe_next(suivant[:200]), values={}, errors={})

    @post("/connexion", operation_id="loginSubmit")
    async def login(self, request: AnyRequest, rt: RuntimeDep, data: URLEncodedBody[LoginForm]) -> Response[Any]:
        """Check the password, then ask for the second factor where the role needs one."""
        try:
            token, actor = await sessions.login(
                rt, data.email, data.password, _client_key(request), request.cookies.get(DEVICE_COOKIE, "")
            )
        except Invalid as error:
            return page(
                request,
                "login.html",
                status_code=400,
                suivant=_safe_next(data.suivant),
                values={"email": data.email},
                errors=error.fields,
            )
        if actor.requires_mfa:
            target = "/connexion/code" if actor.mfa_enrolled else "/compte/double-authentification"
            response = _set_session(redirect(request, target), rt, token)
        else:
            response = _set_session(redirect(request, _safe_next(data.suivant), "Vous êtes connecté."), rt, token)
        return _set_device(response, rt, request, actor.email)

    @get("/mot-de-passe-oublie", operation_id="forgotPasswordPage")
    async def forgot_form(self, request: AnyRequest) -> Template:
        """Ask for a password reset link."""
        return page(request, "forgot_password.html", errors={}, values={})

    @post("/mot-de-passe-oublie", operation_id="forgotPasswordSubmit")
    async def forgot(self, request: AnyRequest, rt: RuntimeDep, data: URLEncodedBody[EmailForm]) -> Response[Any]:
        """Send a reset link when the address has an account (same answer either way)."""
        try:
            email = await invitations.accept_password_reset_request(rt, data.email, _client_key(request))
        except Invalid as error:
            return page(
                request, "forgot_password.html", status_code=400, errors=error.fields, values={"email": data.email}
            )
        response = redirect(
            request,
            "/connexion",
            "Si un compte existe pour cette adresse, un lien vient d'y être envoyé. Il est valable 2 heures.",
        )
        # The address is looked up once the answer has gone: its timing cannot tell whether it has an account.
        response.background = BackgroundTask(invitations.send_password_reset, rt, email)
        return response

    @get("/mot-de-passe/{token:str}", operation_id="resetPasswordPage")
    async def reset_form(self, request: AnyRequest, rt: RuntimeDep, token: FromPath[str]) -> Template:
        """Choose a new password from a reset link."""
        await invitations.peek_link(rt, token, "reset")
        return page(request, "reset_password.html", token=token, errors={})

    @post("/mot-de-passe/{token:str}", operation_id="resetPasswordSubmit")
    async def reset(
        self, request: AnyRequest, rt: RuntimeDep, token: FromPath[str], data: URLEncodedBody[NewPasswordForm]
    ) -> Response[Any]:
        """Set the new password; every open session of the account is closed."""
        try:
            if data.password != data.password_confirm:
                raise Invalid(
                    "Les mots de passe diffèrent.",
                    {"password_confirm": "Les deux mots de passe ne sont pas identiques."},
                )
            await invitations.complete_password_reset(rt, token, data.password)
        except Invalid as error:
            return page(request, "reset_password.html", status_code=400, token=token, errors=error.fields)
        return redirect(request, "/connexion", "Votre mot de passe a été changé. Connectez-vous.")

    @get("/invitation/{token:str}", operation_id="invitationPage")
    async def invitation_form(self, request: AnyRequest, rt: RuntimeDep, token: FromPath[str]) -> Template:
        """Accept an invitation: create an account or confirm an existing one."""
        summary = await invitations.invitation_summary(rt, token)
        return page(request, "invitation.html", token=token, invitation=summary, errors={}, values={})

    @post("/invitation/{token:str}", operation_id="invitationSubmit")
    async def accept(
        self, request: AnyRequest, rt: RuntimeDep, token: FromPath[str], data: URLEncodedBody[InvitationAcceptForm]
    ) -> Response[Any]:
        """Join the structure with the invited role."""
        try:
            _, revoked = await invitations.accept_invitation(
                rt, token, data.full_name, data.password, _client_key(request), request.cookies.get(DEVICE_COOKIE, "")
            )
        except Invalid as error:
            summary = await invitations.invitation_summary(rt, token)
            return page(
                request,
                "invitation.html",
                status_code=400,
                token=token,
                invitation=summary,
                errors=error.fields,
                values={"full_name": data.full_name},
            )
        return redirect(request, "/connexion", "Bienvenue ! Connectez-vous pour continuer." + _revoked_note(revoked))


class SecondFactorPages(Controller):
    guards = [auth.password_checked]
    include_in_schema = False

    @get("/connexion/code", operation_id="secondFactorPage")
    async def code_form(self, request: AnyRequest, actor: CurrentActor) -> Response[Any]:
        """Ask for the one-time code of the authenticator app (or a recovery code)."""
        if not actor.mfa_enrolled:
            return redirect(request, "/compte/double-authentification")
        return page(request, "second_factor.html", errors={})

    @post("/connexion/code", operation_id="secondFactorSubmit")
    async def code(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[CodeForm]
    ) -> Response[Any]:
        """Check the code and finish signing in."""
        try:
            token = await sessions.pass_second_factor(rt, actor, data.code)
        except Invalid as error:
            return page(request, "second_factor.html", status_code=400, errors=error.fields)
        return _set_session(redirect(request, "/", "Vous êtes connecté."), rt, token)

    @post("/deconnexion", operation_id="logout")
    async def logout(self, request: AnyRequest, rt: RuntimeDep) -> Response[Any]:
        """Close the session."""
        await sessions.logout(rt, request.cookies.get(SESSION_COOKIE, ""))
        response = redirect(request, "/", "Vous êtes déconnecté.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/compte/double-authentification", operation_id="mfaEnrolPage")
    async def enrol_form(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Response[Any]:
        """Show the QR code to add Maillage to an authenticator app."""
        if actor.mfa_enrolled:
            return redirect(request, "/compte" if actor.fully_authenticated else "/connexion/code")
        secret = await sessions.pending_totp_secret(rt, actor) or await sessions.start_totp_enrolment(rt, actor)
        uri = totp_uri(secret, actor.email)
        return page(
            request,
            "mfa_enrol.html",
            qr_svg=totp_qr_svg(uri),
            secret=secret,
            ask_password=sessions.enrolment_needs_password(actor),
            errors={},
        )

    @post("/compte/double-authentification", operation_id="mfaEnrolSubmit")
    async def enrol(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[EnrolForm]
    ) -> Response[Any]:
        """Confirm the app with a first code (and the password, on a first required enrolment)."""
        try:
            token, codes = await sessions.confirm_totp_enrolment(rt, actor, data.code, data.password)
        except Invalid as error:
            secret = await sessions.pending_totp_secret(rt, actor)
            return page(
                request,
                "mfa_enrol.html",
                status_code=400,
                qr_svg=totp_qr_svg(totp_uri(secret, actor.email)),
                secret=secret,
                ask_password=sessions.enrolment_needs_password(actor),
                errors=error.fields,
            )
        return _set_session(page(request, "recovery_codes.html", codes=codes), rt, token)


class AccountPages(Controller):
    path = "/compte"
    guards = [auth.signed_in]
    include_in_schema = False

    async def _render(self, request: AnyRequest, actor: Actor, status_code: int = 200, **extra: Any) -> Template:
        return page(
            request,
            "account.html",
            status_code=status_code,
            tokens=await accounts.list_api_tokens(actor),
            recovery_left=await sessions.remaining_recovery_codes(actor.user_id) if actor.mfa_enrolled else 0,
            token_name_max=accounts.MAX_TOKEN_NAME,
            errors=extra.pop("errors", {}),
            **extra,
        )

    @get("/", operation_id="accountPage")
    async def show(self, request: AnyRequest, actor: CurrentActor) -> Template:
        """The user's account: password, two-factor, API tokens."""
        return await self._render(request, actor)

    @post("/mot-de-passe", operation_id="accountPasswordSubmit")
    async def password(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[PasswordChangeForm]
    ) -> Response[Any]:
        """Change the password (other sessions are closed)."""
        try:
            await sessions.change_password(rt, actor, data.current_password, data.new_password)
        except Invalid as error:
            return await self._render(request, actor, 400, errors=error.fields)
        return redirect(request, "/compte", "Mot de passe changé. Vos autres sessions ont été fermées.")

    @post("/codes-de-secours", operation_id="recoveryCodesSubmit")
    async def recovery(self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor) -> Template:
        """Replace the recovery codes (the old ones stop working)."""
        return page(request, "recovery_codes.html", codes=await sessions.regenerate_recovery_codes(rt, actor))

    @post("/jetons", operation_id="apiTokenCreateSubmit")
    async def create_token(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, data: URLEncodedBody[TokenForm]
    ) -> Template:
        """Create a personal API token, shown once."""
        try:
            _, token = await accounts.create_api_token(rt, actor, data.name)
        except (Invalid, Conflict) as error:  # a bad name, or too many live tokens
            return await self._render(request, actor, error.status_code, errors=error.fields)
        return await self._render(request, actor, new_token=token)

    @post("/jetons/{token_id:int}/revoquer", operation_id="apiTokenRevokeSubmit")
    async def revoke_token(
        self, request: AnyRequest, rt: RuntimeDep, actor: CurrentActor, token_id: FromPath[int]
    ) -> Response[Any]:
        """Revoke a personal API token."""
        await accounts.revoke_api_token(rt, actor, token_id)
        return redirect(request, "/compte", "Jeton révoqué.")


class MemberPages(Controller):
    path = "/structures/{structure_id:int}"
    guards = [auth.structure_manager]
    include_in_schema = False

    async def _render(
        self,
        request: AnyRequest,
        actor: Actor,
        structure_id: int,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Template:
        structure = await Structure.select(Structure.id, Structure.name).where(Structure.id == structure_id).first()
        members = await accounts.list_members(actor, structure_id)
        return page(
            request,
            "members.html",
            status_code=status_code,
            structure=structure,
            members=members,
            invitations=await invitations.pending_invitations(request.app.state.runtime, actor, structure_id),
            role_labels=ROLE_LABELS,
            errors=errors or {},
            values=values or {},
        )

    @get("/membres", operation_id="membersPage")
    async def members(self, request: AnyRequest, actor: CurrentActor, structure_id: FromPath[int]) -> Template:
        """The structure's people and roles; invite someone."""
        return await self._render(request, actor, structure_id)

    @post("/invitations", operation_id="inviteSubmit")
    async def invite(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        data: URLEncodedBody[InviteForm],
    ) -> Response[Any]:
        """Send an invitation by email."""
        try:
            await invitations.invite(rt, actor, structure_id, data.email, data.role)
        except (Invalid, Conflict) as error:  # a wrong address; a role already held, an invitation already waiting
            return await self._render(
                request,
                actor,
                structure_id,
                error.status_code,
                error.fields or {"email": error.message},
                {"email": data.email, "role": data.role},
            )
        return redirect(
            request, f"/structures/{structure_id}/membres", "Invitation envoyée. Le lien est valable 7 jours."
        )

    @post("/invitations/{invitation_id:int}/renvoyer", operation_id="invitationResendSubmit")
    async def resend(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        invitation_id: FromPath[int],
        data: URLEncodedBody[BackForm],
    ) -> Response[Any]:
        """Send a pending invitation again, with a new link."""
        await invitations.resend_invitation(rt, actor, structure_id, invitation_id)
        return redirect(
            request,
            _back(data.retour, structure_id),
            f"Invitation renvoyée. Le nouveau lien est valable {rt.settings.invitation_days} jours ; l'ancien ne marche plus.",
        )

    @post("/invitations/{invitation_id:int}/annuler", operation_id="invitationRevokeSubmit")
    async def revoke(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        invitation_id: FromPath[int],
        data: URLEncodedBody[BackForm],
    ) -> Response[Any]:
        """Cancel a pending invitation: its link stops working."""
        await invitations.revoke_invitation(rt, actor, structure_id, invitation_id)
        return redirect(request, _back(data.retour, structure_id), "Invitation annulée : son lien ne marche plus.")

    @post("/membres/{membership_id:int}/retirer", operation_id="removeMemberSubmit")
    async def remove(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: FromPath[int],
        membership_id: FromPath[int],
    ) -> Response[Any]:
        """Withdraw a role (the last manager's is kept, and the members page says why)."""
        try:
            await accounts.remove_membership(rt, actor, membership_id)
        except Conflict as error:  # the members page itself, saying why (409 kept for clients)
            return await self._render(request, actor, structure_id, 409, {"membres": error.message})
        return redirect(request, f"/structures/{structure_id}/membres", "Rôle retiré.")


class JournalPages(Controller):
    guards = [auth.coordinator]
    include_in_schema = False

    @get("/journal", operation_id="journalPage")
    async def show(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        avant: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        apres: Annotated[int | None, QueryParameter(ge=0, le=2**62)] = None,
        du: FromQuery[str] = "",
        au: FromQuery[str] = "",
        auteur: FromQuery[str] = "",
        structure: FromQuery[str] = "",
        action: FromQuery[str] = "",
    ) -> Template:
        """The audit journal in French, filtered and paged, and whether its chain is intact."""
        labels = journal.vocabulary(rt.modules)
        values = {"du": du, "au": au, "auteur": auteur, "structure": structure, "action": action}
        errors: dict[str, str] = {}
        try:
            filters = await journal.read_filters(du, au, auteur, structure, action, labels)
            found = await journal.entries(filters, before=avant, after=apres)
        except Invalid as error:
            errors, filters, found = error.fields, journal.Filters(), journal.Page([], None, None)
        if filters.structure.isdigit() and filters.structures:
            named = await Structure.select(Structure.name).where(Structure.id == filters.structures[0]).first()
            values["structure"] = named["name"] if named else filters.structure
        kept = filters.query_pairs()
        return page(
            request,
            "journal.html",
            status_code=400 if errors else 200,
            entries=await journal.describe(found.rows, labels),
            check=await journal.status(rt.secrets.journal_key),
            values=values,
            errors=errors,
            filtered=bool(kept),
            users=await User.select(User.id, User.full_name).order_by(User.full_name),
            actions=sorted(labels.actions.items(), key=lambda item: item[1].lower()),
            older=urlencode([*kept, ("avant", found.older)]) if found.older else "",
            newer=urlencode([*kept, ("apres", found.newer)]) if found.newer else "",
        )

    @post("/journal/verifier", operation_id="journalFullCheck")
    async def full_check(self, request: AnyRequest, rt: RuntimeDep) -> Response[Any]:
        """Verify the whole journal now (the jobs loop does it once a day)."""
        result = await journal.full_check(rt.secrets.journal_key, rt.now())
        if result.ok:
            return redirect(request, "/journal", f"Journal vérifié en entier : {result.checked} entrées intactes.")
        return redirect(
            request, "/journal", f"Journal altéré à l'entrée n° {result.first_bad_seq} : {result.reason}.", "error"
        )


class AdminPages(Controller):
    path = "/admin"
    guards = [auth.admin]
    include_in_schema = False

    @get("/utilisateurs", operation_id="usersPage")
    async def users(self, request: AnyRequest) -> Template:
        """Every account, with the network-wide roles."""
        users = await User.select(
            User.id,
            User.email,
            User.full_name,
            User.is_admin,
            User.is_coordinator,
            User.is_active,
            User.totp_enabled,
            User.last_login_at,
        ).order_by(User.full_name)
        return page(request, "users.html", users=users)

    @post("/utilisateurs/{user_id:int}/coordinateur", operation_id="coordinatorSubmit")
    async def coordinator(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        actor: CurrentActor,
        user_id: FromPath[int],
        data: URLEncodedBody[CoordinatorForm],
    ) -> Response[Any]:
        """Name or withdraw a network coordinator."""
        revoked = await accounts.set_coordinator(rt, actor, user_id, data.value == "1")
        note = ""
        if revoked:
            note = (
                f" {revoked} jeton(s) d'API de ce compte, créé(s) sans double authentification, "
                "révoqué(s) ; la personne en est prévenue par courriel."
            )
        return redirect(request, "/admin/utilisateurs", "Rôle mis à jour." + note)


PAGE_CONTROLLERS = [HomePages, SignInPages, SecondFactorPages, AccountPages, MemberPages, JournalPages, AdminPages]
