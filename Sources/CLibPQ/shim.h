// libpq, PostgreSQL's C client (Debian: libpq-dev; the header lives in /usr/include/postgresql).
#include <postgresql/libpq-fe.h>
