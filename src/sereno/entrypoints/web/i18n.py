"""Console texts in Spanish (default) and English."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("es", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "es": {
        "app.tagline": "Monitoreo conjunto",
        "nav.map": "Mapa", "nav.cameras": "Cámaras", "nav.logout": "Cerrar sesión",
        "nav.language": "English",
        "login.title": "Iniciar sesión", "login.username": "Usuario",
        "login.password": "Contraseña", "login.submit": "Entrar",
        "login.failed": "Usuario o contraseña incorrectos.",
        "login.locked": "Demasiados intentos fallidos: la cuenta está bloqueada por un tiempo.",
        "login.expired": "Su sesión expiró. Inicie sesión de nuevo.",
        "login.csrf": "El formulario caducó. Vuelva a intentarlo.",
        "login.notice": "Todo acceso queda registrado en la bitácora de auditoría.",
        "map.title": "Mapa de cámaras", "map.offline": "Sin mapa base: se muestra un fondo liso.",
        "map.legend": "Estado",
        "cameras.title": "Cámaras", "cameras.filter": "Filtrar", "cameras.clear": "Limpiar",
        "cameras.search": "Buscar por id o nombre", "cameras.any": "Todos",
        "cameras.count": "cámaras", "cameras.none": "Ninguna cámara coincide con el filtro.",
        "col.id": "Id", "col.name": "Nombre", "col.agency": "Agencia", "col.centre": "Centro",
        "col.status": "Estado", "col.classification": "Clasificación", "col.tags": "Etiquetas",
        "col.position": "Posición", "col.heading": "Orientación", "col.fov": "Campo de visión",
        "col.range": "Alcance",
        "camera.live": "Imagen en vivo", "camera.refresh": "Se actualiza cada {n} s",
        "camera.unavailable": "Imagen no disponible", "camera.back": "Volver a la lista",
        "camera.details": "Datos de la cámara", "camera.audited": "Cada vista queda auditada.",
        "camera.no_footage": "Su rol no permite ver imágenes de esta cámara.",
        "status.online": "En línea", "status.offline": "Fuera de línea",
        "status.degraded": "Degradada", "status.maintenance": "Mantenimiento",
        "status.retired": "Retirada",
        "class.shared": "Compartida", "class.private": "Privada",
        "user.agency": "Agencia", "user.roles": "Roles",
        "error.403": "Acceso denegado", "error.404": "No encontrado",
        "error.409": "Conflicto", "error.422": "Datos no válidos",
        "error.503": "Servicio no disponible", "error.other": "Error",
        "error.home": "Volver al mapa",
    },
    "en": {
        "app.tagline": "Joint monitoring",
        "nav.map": "Map", "nav.cameras": "Cameras", "nav.logout": "Log out",
        "nav.language": "Español",
        "login.title": "Log in", "login.username": "Username", "login.password": "Password",
        "login.submit": "Log in", "login.failed": "Wrong username or password.",
        "login.locked": "Too many failed attempts: the account is locked for a while.",
        "login.expired": "Your session expired. Please log in again.",
        "login.csrf": "The form expired. Please try again.",
        "login.notice": "Every access is recorded in the audit log.",
        "map.title": "Camera map", "map.offline": "No base map: showing a plain background.",
        "map.legend": "Status",
        "cameras.title": "Cameras", "cameras.filter": "Filter", "cameras.clear": "Clear",
        "cameras.search": "Search by id or name", "cameras.any": "Any",
        "cameras.count": "cameras", "cameras.none": "No camera matches the filter.",
        "col.id": "Id", "col.name": "Name", "col.agency": "Agency", "col.centre": "Centre",
        "col.status": "Status", "col.classification": "Classification", "col.tags": "Tags",
        "col.position": "Position", "col.heading": "Heading", "col.fov": "Field of view",
        "col.range": "Range",
        "camera.live": "Live picture", "camera.refresh": "Refreshes every {n} s",
        "camera.unavailable": "Picture unavailable", "camera.back": "Back to the list",
        "camera.details": "Camera details", "camera.audited": "Every view is audited.",
        "camera.no_footage": "Your role does not allow viewing this camera's pictures.",
        "status.online": "Online", "status.offline": "Offline", "status.degraded": "Degraded",
        "status.maintenance": "Maintenance", "status.retired": "Retired",
        "class.shared": "Shared", "class.private": "Private",
        "user.agency": "Agency", "user.roles": "Roles",
        "error.403": "Access denied", "error.404": "Not found", "error.409": "Conflict",
        "error.422": "Invalid data", "error.503": "Service unavailable", "error.other": "Error",
        "error.home": "Back to the map",
    },
}


def translator(language: str) -> Callable[..., str]:
    """``t(key, **values)`` for ``language``; falls back to Spanish, then to the key itself."""
    table = MESSAGES.get(language, MESSAGES["es"])

    def t(key: str, **values: object) -> str:
        text = table.get(key) or MESSAGES["es"].get(key) or key
        return text.format(**values) if values else text

    return t
