# busybox sh: loops, arithmetic, functions, here-documents.
set -e
bb=/bin/busybox
$bb sh -c '
i=0; sum=0
while [ $i -lt 200 ]; do i=$((i+1)); sum=$((sum+i)); done
echo "sum=$sum"
f() { echo "f($1)"; return 3; }
f x || echo "status $?"
cat <<END
here $sum
END
for w in a b c; do printf "%s-" $w; done; echo
echo abc | $bb tr a-c x-z
'
