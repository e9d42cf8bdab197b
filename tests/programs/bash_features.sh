# bash: pipes, subshells, command substitution, traps, job control-free waits.
set -u
trap 'echo "trap EXIT ran"' EXIT
x=$(echo inner | tr a-z A-Z)
echo "subst: $x"
( cd /usr; echo "subshell pwd: $PWD" )
echo "parent pwd unchanged: $([ "$PWD" != /usr ] && echo yes)"
seq 1 5 | while read n; do echo "line $n"; done | tail -2
sleep 0.2 & pid=$!
wait $pid; echo "waited status $?"
false | true; echo "pipe status ${PIPESTATUS[*]}"
arr=(one two three); echo "${#arr[@]} ${arr[1]}"
declare -A m=([k]=v); echo "assoc ${m[k]}"
trap 'echo "got USR1"' USR1
kill -USR1 $$
sh -c 'exit 7'; echo "child exit $?"
printf '%05d|%-4s|%x\n' 42 ab 255
read -r a b <<< "left right"; echo "$b $a"
echo $(( 2 ** 20 ))
exit 3
