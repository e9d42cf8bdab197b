# gcc and make: compile, link and run inside.
set -e
d=$(mktemp -d); cd "$d"
cat > hello.c <<'END'
#include <stdio.h>
#include <stdlib.h>
int add(int, int);
int main(int argc, char** argv) { printf("hello %d\n", add(40, 2)); return argc > 1 ? atoi(argv[1]) : 0; }
END
cat > add.c <<'END'
int add(int a, int b) { return a + b; }
END
cat > Makefile <<'END'
all: prog
prog: hello.o add.o
	$(CC) -o $@ $^
%.o: %.c
	$(CC) -O2 -c $<
clean:
	rm -f prog *.o
END
gcc hello.c add.c -o a.out && ./a.out
make -s -j2 && ./prog
./prog 9 || echo "exit $?"
make -s clean && ls
