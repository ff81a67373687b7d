#ifndef CFASTCGI_H
#define CFASTCGI_H

#include <fcgiapp.h>

#endif
