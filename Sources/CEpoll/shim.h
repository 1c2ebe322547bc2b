// Linux readiness notification (epoll) and the eventfd that wakes a waiting loop (glibc).
#include <sys/epoll.h>
#include <sys/eventfd.h>
