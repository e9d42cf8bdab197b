# Exit statuses of programs killed by signals, and stdin.
sh -c 'kill -TERM $$'; echo "term -> $?"
sh -c 'kill -SEGV $$'; echo "segv -> $?"
/usr/bin/python3 -c 'import os; os.abort()' 2>/dev/null; echo "abort -> $?"
/usr/bin/python3 -c 'import ctypes; ctypes.string_at(0)' 2>/dev/null; echo "null deref -> $?"
echo "from stdin: $(head -c 100)"
sh -c 'kill -KILL $$'
