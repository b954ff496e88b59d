-- Every subscription has one owner: the owner of its subject (a repository's owner, an
-- Akkeris app's organization, a job's deployment's repository owner). A token limited to
-- some owners sees only their subscriptions and deliveries. NULL: a subject that names
-- nothing the relay knows; only tokens without an owner limit reach it.
ALTER TABLE subscriptions ADD COLUMN owner TEXT;

UPDATE subscriptions SET owner = lower(substr(subject, 1, instr(subject, '/') - 1))
WHERE subject_type = 'repository' AND instr(subject, '/') > 1;

UPDATE subscriptions SET owner = (
  SELECT lower(a.organization) FROM apps a WHERE a.space || '/' || a.name = subscriptions.subject
) WHERE subject_type IN ('build_repo', 'image_repo');

UPDATE subscriptions SET owner = (
  SELECT lower(substr(d.subject, 1, instr(d.subject, '/') - 1)) FROM deployments d
  WHERE CAST(d.id AS TEXT) = subscriptions.subject
) WHERE subject_type = 'job';

CREATE INDEX subscriptions_by_owner ON subscriptions (owner, id);
