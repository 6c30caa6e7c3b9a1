-- A push's write, apart from its outcome: `written` is NULL until a
-- write is sent, 'enviado' once one is sent (its answer unknown: the
-- helpdesk failed or never answered), 'aceito' once the helpdesk took it.
-- A push with a write sent or taken is not written again until a read
-- finds its marker or, for 'enviado', the confirmation window passes.
ALTER TABLE pushes ADD COLUMN written TEXT;
ALTER TABLE pushes ADD COLUMN written_at TEXT;
