"""The four roles (SPEC section 1) and the groups the rules use, by name instead of bare strings."""
ADMIN = "admin"
SUPERVISOR = "supervisor"
UNIT = "unit"
VIEWER = "viewer"

ROLES = (ADMIN, SUPERVISOR, UNIT, VIEWER)
ROLE_LABELS = {ADMIN: "系统管理员", SUPERVISOR: "督办人员（区司法局）", UNIT: "责任单位联络员", VIEWER: "领导（只读）"}
SUPERVISING = (ADMIN, SUPERVISOR)  # the bureau: review, urge, settings
READERS = (ADMIN, SUPERVISOR, VIEWER)  # see the whole plan
