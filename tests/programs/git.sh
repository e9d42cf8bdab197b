# git: init, commit, log, diff.
set -e
d=$(mktemp -d); cd "$d"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@e
export GIT_AUTHOR_DATE="2020-01-01T00:00:00Z" GIT_COMMITTER_DATE="2020-01-01T00:00:00Z"
git init -q -b main .
echo one > a.txt; git add a.txt; git commit -q -m first
echo two >> a.txt; git commit -q -am second
git log --format='%H %s'
git diff HEAD~1 --stat
git show --name-only --format=%s HEAD
git status --porcelain
