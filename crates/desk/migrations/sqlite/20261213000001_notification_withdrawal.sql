-- A notification can be withdrawn («Снять») before it expires: it leaves every banner
-- and list but the admins', where it stays, greyed.
ALTER TABLE notifications ADD COLUMN withdrawn_at TEXT;
